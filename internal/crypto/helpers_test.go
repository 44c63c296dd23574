package crypto

import (
	"bytes"
	"testing"

	"filippo.io/age"
)

func mustDEK(tb testing.TB) *DEK {
	tb.Helper()
	k, err := NewDEK()
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

func mustIdentity(tb testing.TB) *Identity {
	tb.Helper()
	id, err := GenerateIdentity()
	if err != nil {
		tb.Fatal(err)
	}
	return id
}

// fixedDEK returns the DEK whose bytes are 0x00, 0x01, …, 0x1f, for
// known-answer tests that pin the formats.
func fixedDEK(tb testing.TB) *DEK {
	tb.Helper()
	key := make([]byte, KeySize)
	for i := range key {
		key[i] = byte(i)
	}
	k, err := newDEK(key)
	if err != nil {
		tb.Fatal(err)
	}
	return k
}

// ageEncrypt encrypts arbitrary bytes to recipient, as WrapDEK does for a key.
func ageEncrypt(tb testing.TB, plaintext []byte, recipient string) []byte {
	tb.Helper()
	r, err := age.ParseX25519Recipient(recipient)
	if err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := w.Write(plaintext); err != nil {
		tb.Fatal(err)
	}
	if err := w.Close(); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}
