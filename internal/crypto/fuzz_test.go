package crypto

import (
	"bytes"
	"strings"
	"testing"

	"github.com/slickenv/slickenv/internal/secret"
)

// FuzzOpen checks that Open never panics and never accepts anything but a
// genuine seal. The DEK is fresh in every process, so corpus entries saved by
// earlier runs can never be genuine.
func FuzzOpen(f *testing.F) {
	k := mustDEK(f)
	genuine := map[string]string{} // ciphertext → plaintext
	for _, v := range []string{"", "x", "hunter2", strings.Repeat("long value ", 100), "\x00\xff"} {
		c, err := k.Seal(testSlot, secret.New(v))
		if err != nil {
			f.Fatal(err)
		}
		genuine[string(c)] = v
		f.Add(c)
		f.Add(c[:len(c)-1])
		f.Add(append(bytes.Clone(c), 0))
	}
	f.Add([]byte{})
	f.Add([]byte{1})
	f.Add(make([]byte, Overhead))
	f.Fuzz(func(t *testing.T, ciphertext []byte) {
		v, err := k.Open(testSlot, ciphertext)
		want, isGenuine := genuine[string(ciphertext)]
		switch {
		case err == nil && !isGenuine:
			t.Fatalf("Open accepted a forged ciphertext %x", ciphertext)
		case err != nil && isGenuine:
			t.Fatalf("Open rejected a genuine ciphertext: %v", err)
		case err == nil && v.Reveal() != want:
			t.Fatal("Open returned the wrong plaintext")
		}
		if _, err := k.OpenBlob("", ciphertext); err == nil {
			t.Fatal("OpenBlob accepted a value ciphertext or a forgery")
		}
	})
}

// FuzzParseIdentity checks that ParseIdentity never panics, that whatever it
// accepts round-trips through MarshalText, and that its errors never quote
// the input.
func FuzzParseIdentity(f *testing.F) {
	id := mustIdentity(f)
	text, err := id.MarshalText()
	if err != nil {
		f.Fatal(err)
	}
	key := id.x.String()
	f.Add(key)
	f.Add(string(text))
	f.Add(strings.ReplaceAll(string(text), "\n", "\r\n"))
	f.Add(key + "\n" + key)
	f.Add(key[:len(key)-1])
	f.Add(strings.ToLower(key))
	f.Add(id.Recipient())
	f.Add("# created: 2024-01-02T03:04:05Z\n")
	f.Add("AGE-SECRET-KEY-PQ-1XYZ")
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseIdentity(s)
		if err != nil {
			for line := range strings.SplitSeq(s, "\n") {
				if line = strings.TrimSpace(line); len(line) >= 24 && strings.Contains(err.Error(), line) {
					t.Fatalf("error quotes input line %q: %v", line, err)
				}
			}
			return
		}
		if !ValidRecipient(got.Recipient()) {
			t.Fatalf("accepted identity has invalid recipient %q", got.Recipient())
		}
		if strings.Contains(got.String(), "AGE-SECRET-KEY") {
			t.Fatal("String reveals the secret key")
		}
		text, err := got.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseIdentity(string(text))
		if err != nil {
			t.Fatalf("MarshalText output does not parse: %v", err)
		}
		if back.Recipient() != got.Recipient() {
			t.Fatal("recipient changed through MarshalText")
		}
	})
}

// FuzzUnwrapDEK checks that UnwrapDEK never panics on arbitrary blobs and
// accepts only the genuine wrap.
func FuzzUnwrapDEK(f *testing.F) {
	id := mustIdentity(f)
	k := mustDEK(f)
	wrapped, err := WrapDEK(k, id.Recipient())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(wrapped)
	f.Add(wrapped[:len(wrapped)/2])
	f.Add([]byte("age-encryption.org/v1\n"))
	f.Fuzz(func(t *testing.T, blob []byte) {
		got, err := UnwrapDEK(blob, id)
		if err != nil {
			return
		}
		if !got.Equal(k) {
			// Anyone can wrap a key to a recipient; but a mutation of our
			// wrap that yields a different key means authentication failed.
			t.Fatalf("UnwrapDEK returned a different key from blob %x", blob)
		}
	})
}
