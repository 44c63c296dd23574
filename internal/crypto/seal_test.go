package crypto

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/slickenv/slickenv/internal/secret"
)

var testSlot = Slot{Project: "shop", Env: "production", Name: "DATABASE_URL"}

func TestSealOpenRoundTrip(t *testing.T) {
	large := make([]byte, 1<<20)
	if _, err := rand.Read(large); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		value []byte
	}{
		{"empty", nil},
		{"ascii", []byte("postgres://app:hunter2@db:5432/shop")},
		{"unicode", []byte("pässwörd-🔑")},
		{"binary with NUL", []byte{0, 1, 2, 0xff, 0, 0xfe, '\n', 0}},
		{"1 MiB random", large},
	}
	k := mustDEK(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := secret.FromBytes(tt.value)
			c, err := k.Seal(testSlot, v)
			if err != nil {
				t.Fatal(err)
			}
			if got, want := len(c), len(tt.value)+Overhead; got != want {
				t.Errorf("ciphertext length = %d, want %d", got, want)
			}
			if c[0] != 1 {
				t.Errorf("version byte = %d, want 1", c[0])
			}
			if len(tt.value) > 8 && bytes.Contains(c, tt.value[:8]) {
				t.Error("ciphertext contains plaintext")
			}
			got, err := k.Open(testSlot, c)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(v) {
				t.Error("opened value differs from sealed value")
			}
			c2, err := k.Seal(testSlot, v)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Equal(c, c2) {
				t.Error("two seals of the same value are identical (nonce reuse)")
			}
		})
	}
}

func TestOpenWrongSlot(t *testing.T) {
	k := mustDEK(t)
	sealedFor := Slot{Project: "a", Env: "b/c", Name: "d"}
	c, err := k.Seal(sealedFor, secret.New("v"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		slot Slot
	}{
		{"project", Slot{"x", "b/c", "d"}},
		{"env", Slot{"a", "staging", "d"}},
		{"name", Slot{"a", "b/c", "D"}},
		{"same slash spelling", Slot{"a/b", "c", "d"}},
		{"fields shifted", Slot{"", "a", "b/c"}},
		{"all empty", Slot{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := k.Open(tt.slot, c)
			if !errors.Is(err, ErrTampered) {
				t.Fatalf("Open(%v) error = %v, want ErrTampered", tt.slot, err)
			}
		})
	}
}

func TestSlotRejectsNUL(t *testing.T) {
	k := mustDEK(t)
	for _, s := range []Slot{{"p\x00", "e", "n"}, {"p", "e\x00n", ""}, {"p", "e", "\x00"}} {
		if _, err := k.Seal(s, secret.New("v")); err == nil {
			t.Errorf("Seal(%q) succeeded, want error", s.String())
		}
		if _, err := k.Open(s, make([]byte, 64)); err == nil || errors.Is(err, ErrTampered) {
			t.Errorf("Open(%q) error = %v, want invalid slot", s.String(), err)
		}
	}
}

func TestOpenEveryBitFlip(t *testing.T) {
	k := mustDEK(t)
	c, err := k.Seal(testSlot, secret.New("hunter2"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range len(c) * 8 {
		m := bytes.Clone(c)
		m[i/8] ^= 1 << (i % 8)
		if _, err := k.Open(testSlot, m); !errors.Is(err, ErrTampered) {
			t.Fatalf("bit %d flipped: error = %v, want ErrTampered", i, err)
		}
	}
}

func TestOpenTruncatedOrExtended(t *testing.T) {
	k := mustDEK(t)
	c, err := k.Seal(testSlot, secret.New("hunter2"))
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(c) {
		if _, err := k.Open(testSlot, c[:n]); !errors.Is(err, ErrTampered) {
			t.Fatalf("truncated to %d bytes: error = %v, want ErrTampered", n, err)
		}
	}
	for _, extra := range [][]byte{{0}, {1, 2, 3}, c} {
		if _, err := k.Open(testSlot, append(bytes.Clone(c), extra...)); !errors.Is(err, ErrTampered) {
			t.Fatalf("extended by %d bytes: error = %v, want ErrTampered", len(extra), err)
		}
	}
}

func TestOpenWrongDEK(t *testing.T) {
	c, err := mustDEK(t).Seal(testSlot, secret.New("hunter2"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := mustDEK(t).Open(testSlot, c); !errors.Is(err, ErrTampered) {
		t.Fatalf("error = %v, want ErrTampered", err)
	}
}

func TestOpenErrorNamesSlot(t *testing.T) {
	_, err := mustDEK(t).Open(testSlot, []byte("garbage"))
	if err == nil || !bytes.Contains([]byte(err.Error()), []byte("shop/production/DATABASE_URL")) {
		t.Fatalf("error = %v, want it to name the slot", err)
	}
}

func TestZeroDEK(t *testing.T) {
	var k *DEK
	if _, err := k.Seal(testSlot, secret.New("v")); err == nil {
		t.Error("Seal with nil DEK succeeded")
	}
	if _, err := (&DEK{}).Open(testSlot, make([]byte, 64)); err == nil {
		t.Error("Open with zero DEK succeeded")
	}
	if _, err := (&DEK{}).SealBlob("x", nil); err == nil {
		t.Error("SealBlob with zero DEK succeeded")
	}
}

func TestBlobRoundTripAndBinding(t *testing.T) {
	k := mustDEK(t)
	tests := []struct {
		name string
		ad   string
		pt   []byte
	}{
		{"empty", "", nil},
		{"journal", "journal/rot-123", []byte("new-password")},
		{"snapshot", "snapshot/shop/production", bytes.Repeat([]byte{0xaa}, 4096)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := k.SealBlob(tt.ad, tt.pt)
			if err != nil {
				t.Fatal(err)
			}
			got, err := k.OpenBlob(tt.ad, c)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.pt) {
				t.Error("opened blob differs")
			}
			if _, err := k.OpenBlob(tt.ad+"x", c); !errors.Is(err, ErrTampered) {
				t.Errorf("other ad: error = %v, want ErrTampered", err)
			}
			if _, err := mustDEK(t).OpenBlob(tt.ad, c); !errors.Is(err, ErrTampered) {
				t.Errorf("other DEK: error = %v, want ErrTampered", err)
			}
		})
	}
}

// A blob and a value never open as each other, even when the caller picks a
// blob ad that spells the slot's encoding.
func TestBlobAndValueDomainsSeparate(t *testing.T) {
	k := mustDEK(t)
	mimic := "shop\x00production\x00DATABASE_URL"
	blob, err := k.SealBlob(mimic, []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.Open(testSlot, blob); !errors.Is(err, ErrTampered) {
		t.Errorf("blob opened as value: error = %v", err)
	}
	value, err := k.Seal(testSlot, secret.New("v"))
	if err != nil {
		t.Fatal(err)
	}
	for _, ad := range []string{mimic, "slickenv/value/v1\x00" + mimic, "\x00" + mimic} {
		if _, err := k.OpenBlob(ad, value); !errors.Is(err, ErrTampered) {
			t.Errorf("value opened as blob with ad %q: error = %v", ad, err)
		}
	}
}

// TestFormatKnownAnswer pins the ciphertext and associated-data formats
// documented in the package doc: a stored ciphertext must open forever.
func TestFormatKnownAnswer(t *testing.T) {
	k := fixedDEK(t)
	value := "postgres://app:hunter2@db/shop"
	sealed, _ := hex.DecodeString("01234347d26fb1caac0ca546fc777129748bb58de43c8836a7708546e95aa6c5924bf63b2d350b64244b296876a3cbddac259c51910d9abc0f66f7c6731b78f3476b8e8107f9cf")
	got, err := k.Open(testSlot, sealed)
	if err != nil {
		t.Fatal(err)
	}
	if got.Reveal() != value {
		t.Error("known-answer value differs")
	}

	// Independently of this package: the documented layout and AD.
	aead, err := chacha20poly1305.NewX(k.key[:])
	if err != nil {
		t.Fatal(err)
	}
	ad := []byte("slickenv/value/v1\x00shop\x00production\x00DATABASE_URL")
	pt, err := aead.Open(nil, sealed[1:25], sealed[25:], ad)
	if err != nil || string(pt) != value {
		t.Fatalf("documented value format does not open: %v", err)
	}

	blob, _ := hex.DecodeString("014224d6b99405f6b2c3fc6029ac17e3761f09afc63bebff96a209e321c12d20494a94501e35a3280037817a49fd3c8d")
	pt, err = aead.Open(nil, blob[1:25], blob[25:], []byte("slickenv/blob/v1\x00journal/rot-1"))
	if err != nil || string(pt) != "pending" {
		t.Fatalf("documented blob format does not open: %v", err)
	}
	if pt, err := k.OpenBlob("journal/rot-1", blob); err != nil || string(pt) != "pending" {
		t.Fatalf("OpenBlob known answer: %q, %v", pt, err)
	}
}

func BenchmarkOpen(b *testing.B) {
	k := mustDEK(b)
	c, err := k.Seal(testSlot, secret.New("sk_live_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTU"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(c)))
	for b.Loop() {
		if _, err := k.Open(testSlot, c); err != nil {
			b.Fatal(err)
		}
	}
}
