package crypto

import (
	"bytes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"filippo.io/age"
	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/hkdf"

	"github.com/slickenv/slickenv/internal/secret"
)

// KeySize is the size of a data key in bytes.
const KeySize = chacha20poly1305.KeySize

// HKDF info strings; changing one orphans every stored fingerprint or key ID.
const (
	fingerprintInfo = "slickenv fingerprint v1"
	keyIDInfo       = "slickenv key id v1"
)

// DEK is an environment's data key: 256 random bits under which every value
// of the environment is sealed, plus the fingerprint key derived from them.
// String, GoString, Format, MarshalJSON and LogValue redact. A DEK is safe for
// concurrent use.
//
// The zero DEK is not usable; obtain one from NewDEK or UnwrapDEK.
type DEK struct {
	key   [KeySize]byte
	fpKey [sha256.Size]byte
	id    string
	aead  cipher.AEAD
}

// NewDEK returns a new random data key.
func NewDEK() (*DEK, error) {
	var key [KeySize]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("new data key: %w", err)
	}
	return newDEK(key[:])
}

// newDEK builds a DEK from raw key bytes.
func newDEK(key []byte) (*DEK, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("data key: %d bytes, want %d", len(key), KeySize)
	}
	k := &DEK{}
	copy(k.key[:], key)
	aead, err := chacha20poly1305.NewX(k.key[:])
	if err != nil {
		return nil, fmt.Errorf("data key: %w", err)
	}
	k.aead = aead
	if err := derive(k.key[:], fingerprintInfo, k.fpKey[:]); err != nil {
		return nil, err
	}
	var id [8]byte
	if err := derive(k.key[:], keyIDInfo, id[:]); err != nil {
		return nil, err
	}
	k.id = hex.EncodeToString(id[:])
	return k, nil
}

func derive(key []byte, info string, out []byte) error {
	if _, err := io.ReadFull(hkdf.New(sha256.New, key, nil, []byte(info)), out); err != nil {
		return fmt.Errorf("data key: derive %q: %w", info, err)
	}
	return nil
}

func (k *DEK) usable() bool { return k != nil && k.aead != nil }

// Fingerprint returns HMAC-SHA256 of the value under the DEK's fingerprint
// key: 32 bytes. Equal values in the same environment (same DEK) have equal
// fingerprints; different DEKs give unrelated fingerprints, and a fingerprint
// reveals nothing about the value to anyone without the DEK. (A short or
// guessable value can still be confirmed by someone who has the DEK.)
//
// It panics on a nil or zero DEK rather than return a fingerprint under an
// all-zero key.
func (k *DEK) Fingerprint(v secret.Value) []byte {
	if !k.usable() {
		panic("crypto: Fingerprint on a nil or zero DEK")
	}
	pt := v.RevealBytes()
	defer clear(pt)
	mac := hmac.New(sha256.New, k.fpKey[:])
	mac.Write(pt)
	return mac.Sum(nil)
}

// ID returns a short public identifier of the key (16 hex digits, derived
// one-way from it). It is safe to store as metadata, for instance to check that
// every wrapped copy in an environment is the same key, or to notice that the
// key an environment is served with changed. It returns "" for a nil or zero
// DEK.
func (k *DEK) ID() string {
	if !k.usable() {
		return ""
	}
	return k.id
}

// Equal reports, in constant time, whether k and o are the same key.
func (k *DEK) Equal(o *DEK) bool {
	if !k.usable() || !o.usable() {
		return false
	}
	return subtle.ConstantTimeCompare(k.key[:], o.key[:]) == 1
}

// The printing methods below have value receivers so that a DEK printed by
// value (whose fields fmt would otherwise dump) redacts too.

// String redacts.
func (k DEK) String() string { return "crypto.DEK(" + secret.Redacted + ")" }

// GoString redacts.
func (k DEK) GoString() string { return k.String() }

// Format implements fmt.Formatter so that every verb redacts.
func (k DEK) Format(f fmt.State, verb rune) { _, _ = f.Write([]byte(k.String())) }

// MarshalJSON redacts.
func (k DEK) MarshalJSON() ([]byte, error) { return []byte(`"` + secret.Redacted + `"`), nil }

// LogValue implements slog.LogValuer and redacts.
func (k DEK) LogValue() slog.Value { return slog.StringValue(secret.Redacted) }

// WrapDEK encrypts dek to one age X25519 recipient ("age1…"). The result is a
// binary age file; every call yields a different blob. The error for an
// invalid recipient does not quote it (it might be a secret key pasted in the
// wrong place).
func WrapDEK(dek *DEK, recipient string) ([]byte, error) {
	if !dek.usable() {
		return nil, errors.New("wrap data key: nil or zero data key")
	}
	r, err := age.ParseX25519Recipient(recipient)
	if err != nil {
		return nil, errors.New("wrap data key: invalid recipient: not an age X25519 public key (age1…)")
	}
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	if err != nil {
		return nil, fmt.Errorf("wrap data key for %s: %w", recipient, err)
	}
	if _, err := w.Write(dek.key[:]); err != nil {
		return nil, fmt.Errorf("wrap data key for %s: %w", recipient, err)
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("wrap data key for %s: %w", recipient, err)
	}
	return buf.Bytes(), nil
}

// UnwrapDEK opens a data key wrapped by WrapDEK with id.
//
// Errors: ErrNoIdentity if id is nil; ErrNoAccess if the key was not wrapped
// to id (a wrap damaged in the part meant for id looks the same); ErrTampered
// if the blob is not a well-formed age file or fails authentication, or its
// payload is not a data key.
//
// Note that age, like any public-key encryption, does not authenticate the
// sender: anyone may wrap a key of their choosing to a recipient. Callers that
// distrust the store should compare ID with the one they have seen before.
func UnwrapDEK(wrapped []byte, id *Identity) (*DEK, error) {
	if id == nil || id.x == nil {
		return nil, fmt.Errorf("unwrap data key: %w", ErrNoIdentity)
	}
	r, err := age.Decrypt(bytes.NewReader(wrapped), id.x)
	if err != nil {
		if _, ok := errors.AsType[*age.NoIdentityMatchError](err); ok {
			return nil, fmt.Errorf("unwrap data key for %s: %w", id.recipient, ErrNoAccess)
		}
		// age's errors describe the blob, which is not secret.
		return nil, fmt.Errorf("unwrap data key for %s: %w: %v", id.recipient, ErrTampered, err)
	}
	key, err := io.ReadAll(io.LimitReader(r, KeySize+1))
	defer clear(key)
	if err != nil {
		return nil, fmt.Errorf("unwrap data key for %s: %w: %v", id.recipient, ErrTampered, err)
	}
	if len(key) != KeySize {
		return nil, fmt.Errorf("unwrap data key for %s: %w: payload is not a %d-byte key", id.recipient, ErrTampered, KeySize)
	}
	return newDEK(key)
}
