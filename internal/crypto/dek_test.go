package crypto

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/slickenv/slickenv/internal/secret"
)

func TestWrapUnwrapRoundTrip(t *testing.T) {
	k := mustDEK(t)
	id := mustIdentity(t)
	wrapped, err := WrapDEK(k, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(wrapped, []byte("age-encryption.org/v1\n")) {
		t.Errorf("wrapped DEK is not a binary age file: %q…", wrapped[:min(len(wrapped), 30)])
	}
	if bytes.Contains(wrapped, k.key[:]) {
		t.Error("wrapped DEK contains the raw key")
	}
	got, err := UnwrapDEK(wrapped, id)
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(k) || got.ID() != k.ID() {
		t.Fatal("unwrapped DEK differs")
	}
	// The unwrapped key opens what the original sealed.
	c, err := k.Seal(testSlot, secret.New("v"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := got.Open(testSlot, c); err != nil {
		t.Fatal(err)
	}
	again, err := WrapDEK(k, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(again, wrapped) {
		t.Error("two wraps are identical")
	}
}

func TestUnwrapErrors(t *testing.T) {
	k := mustDEK(t)
	id := mustIdentity(t)
	wrapped, err := WrapDEK(k, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	flippedTail := bytes.Clone(wrapped)
	flippedTail[len(flippedTail)-1] ^= 1
	notAKey, err := mustDEK(t).SealBlob("x", nil) // not an age file at all
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		wrapped []byte
		id      *Identity
		want    error
	}{
		{"other identity", wrapped, mustIdentity(t), ErrNoAccess},
		{"nil identity", wrapped, nil, ErrNoIdentity},
		{"payload modified", flippedTail, id, ErrTampered},
		{"truncated", wrapped[:len(wrapped)-5], id, ErrTampered},
		{"payload missing", wrapped[:len(wrapped)-48], id, ErrTampered},
		{"empty", nil, id, ErrTampered},
		{"garbage", notAKey, id, ErrTampered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := UnwrapDEK(tt.wrapped, tt.id)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error = %v, want %v", err, tt.want)
			}
		})
	}
}

// A wrap whose payload is not exactly a 32-byte key is rejected.
func TestUnwrapWrongPayloadLength(t *testing.T) {
	id := mustIdentity(t)
	for _, n := range []int{0, 31, 33, 1000} {
		wrapped := ageEncrypt(t, make([]byte, n), id.Recipient())
		if _, err := UnwrapDEK(wrapped, id); !errors.Is(err, ErrTampered) {
			t.Errorf("%d-byte payload: error = %v, want ErrTampered", n, err)
		}
	}
}

func TestWrapInvalidRecipient(t *testing.T) {
	k := mustDEK(t)
	id := mustIdentity(t)
	secretKey := id.x.String()
	for _, r := range []string{"", "age1", "AGE1" + id.Recipient()[4:], "ssh-ed25519 AAAA", secretKey} {
		_, err := WrapDEK(k, r)
		if err == nil {
			t.Errorf("WrapDEK(%q) succeeded", r)
			continue
		}
		if strings.Contains(err.Error(), secretKey) {
			t.Errorf("error quotes the secret key: %v", err)
		}
	}
	if _, err := WrapDEK(nil, id.Recipient()); err == nil {
		t.Error("WrapDEK(nil) succeeded")
	}
}

func TestFingerprint(t *testing.T) {
	k := mustDEK(t)
	a1 := k.Fingerprint(secret.New("hunter2"))
	a2 := k.Fingerprint(secret.New("hunter2"))
	b := k.Fingerprint(secret.New("hunter3"))
	empty := k.Fingerprint(secret.Value{})
	other := mustDEK(t).Fingerprint(secret.New("hunter2"))

	if len(a1) != 32 {
		t.Errorf("len = %d, want 32", len(a1))
	}
	if !bytes.Equal(a1, a2) {
		t.Error("equal values, same DEK: fingerprints differ")
	}
	for name, fp := range map[string][]byte{"different value": b, "empty value": empty, "different DEK": other} {
		if bytes.Equal(a1, fp) {
			t.Errorf("%s: fingerprints equal", name)
		}
	}
}

func TestFingerprintStableAcrossUnwrap(t *testing.T) {
	k := mustDEK(t)
	id := mustIdentity(t)
	wrapped, err := WrapDEK(k, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	u, err := UnwrapDEK(wrapped, id)
	if err != nil {
		t.Fatal(err)
	}
	v := secret.New("hunter2")
	if !bytes.Equal(k.Fingerprint(v), u.Fingerprint(v)) {
		t.Error("fingerprint changed after unwrap")
	}
}

// TestDerivationKnownAnswer pins the fingerprint and key-ID derivations,
// computed here with the standard library, independently of the package.
func TestDerivationKnownAnswer(t *testing.T) {
	k := fixedDEK(t)
	fpKey, err := hkdf.Key(sha256.New, k.key[:], nil, "slickenv fingerprint v1", 32)
	if err != nil {
		t.Fatal(err)
	}
	mac := hmac.New(sha256.New, fpKey)
	mac.Write([]byte("hunter2"))
	want := mac.Sum(nil)
	got := k.Fingerprint(secret.New("hunter2"))
	if !bytes.Equal(got, want) {
		t.Errorf("fingerprint = %x, want %x", got, want)
	}
	if hex.EncodeToString(got) != "e071436a23cb0517522116b0f9321b7aa6a765d2928ce007efba06636f4ce8fe" {
		t.Errorf("fingerprint known answer changed: %x", got)
	}

	idBytes, err := hkdf.Key(sha256.New, k.key[:], nil, "slickenv key id v1", 8)
	if err != nil {
		t.Fatal(err)
	}
	if k.ID() != hex.EncodeToString(idBytes) || k.ID() != "78813dcc900acb3b" {
		t.Errorf("ID = %s, want %x", k.ID(), idBytes)
	}
}

func TestDEKEqualAndID(t *testing.T) {
	a, b := mustDEK(t), mustDEK(t)
	if a.Equal(b) || a.ID() == b.ID() {
		t.Error("two random DEKs compare equal")
	}
	if !a.Equal(a) {
		t.Error("DEK not equal to itself")
	}
	var z *DEK
	if z.Equal(a) || a.Equal(z) || z.ID() != "" {
		t.Error("nil DEK: Equal or ID misbehave")
	}
}

func TestFingerprintPanicsOnZeroDEK(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("no panic")
		}
	}()
	(&DEK{}).Fingerprint(secret.New("v"))
}

func BenchmarkUnwrapDEK(b *testing.B) {
	id := mustIdentity(b)
	wrapped, err := WrapDEK(mustDEK(b), id.Recipient())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := UnwrapDEK(wrapped, id); err != nil {
			b.Fatal(err)
		}
	}
}
