package crypto

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/slickenv/slickenv/internal/secret"
)

const (
	// formatVersion is the first byte of every sealed value and blob.
	formatVersion byte = 1
	nonceSize          = chacha20poly1305.NonceSizeX
	headerSize         = 1 + nonceSize
	// Overhead is how many bytes longer a ciphertext is than its plaintext.
	Overhead = headerSize + chacha20poly1305.Overhead

	valueADPrefix = "slickenv/value/v1\x00"
	blobADPrefix  = "slickenv/blob/v1\x00"
)

// Slot names where a value lives. Its encoding is the associated data of the
// value's ciphertext, so a ciphertext opens only in the slot it was sealed for.
type Slot struct {
	Project, Env, Name string
}

// String returns "project/env/name". It is for messages only; the associated
// data is the unambiguous NUL-separated encoding described in the package doc.
func (s Slot) String() string { return s.Project + "/" + s.Env + "/" + s.Name }

func (s Slot) associatedData() ([]byte, error) {
	if strings.ContainsRune(s.Project, 0) || strings.ContainsRune(s.Env, 0) || strings.ContainsRune(s.Name, 0) {
		return nil, errors.New("invalid slot: a name contains NUL")
	}
	ad := make([]byte, 0, len(valueADPrefix)+len(s.Project)+len(s.Env)+len(s.Name)+2)
	ad = append(ad, valueADPrefix...)
	ad = append(ad, s.Project...)
	ad = append(ad, 0)
	ad = append(ad, s.Env...)
	ad = append(ad, 0)
	ad = append(ad, s.Name...)
	return ad, nil
}

// Seal encrypts v for slot under k: version byte 1 || 24-byte random nonce ||
// XChaCha20-Poly1305 ciphertext and tag (see the package doc). The output is
// len(v)+Overhead bytes and differs on every call. It fails only for a nil or
// zero DEK or a slot field containing NUL.
func (k *DEK) Seal(slot Slot, v secret.Value) ([]byte, error) {
	ad, err := slot.associatedData()
	if err != nil {
		return nil, fmt.Errorf("seal %s: %w", slot, err)
	}
	pt := v.RevealBytes()
	defer clear(pt)
	out, err := k.seal(ad, pt)
	if err != nil {
		return nil, fmt.Errorf("seal %s: %w", slot, err)
	}
	return out, nil
}

// Open decrypts a ciphertext produced by Seal for the same slot under the same
// DEK. A ciphertext from another slot or another key, truncated, extended or
// modified in any bit fails with an error wrapping ErrTampered that names the
// slot; no error ever contains plaintext.
func (k *DEK) Open(slot Slot, ciphertext []byte) (secret.Value, error) {
	ad, err := slot.associatedData()
	if err != nil {
		return secret.Value{}, fmt.Errorf("open %s: %w", slot, err)
	}
	pt, err := k.open(ad, ciphertext)
	if err != nil {
		return secret.Value{}, fmt.Errorf("open %s: %w", slot, err)
	}
	defer clear(pt)
	return secret.FromBytes(pt), nil
}

// SealBlob encrypts arbitrary bytes under k, bound to the caller's ad string
// (for example "journal/<rotation id>" or "snapshot/shop/production"). The
// format is the same as Seal's, with a different associated-data prefix, so a
// blob never opens as a value or the other way round.
func (k *DEK) SealBlob(ad string, plaintext []byte) ([]byte, error) {
	out, err := k.seal([]byte(blobADPrefix+ad), plaintext)
	if err != nil {
		return nil, fmt.Errorf("seal blob %q: %w", ad, err)
	}
	return out, nil
}

// OpenBlob decrypts a ciphertext produced by SealBlob with the same ad under
// the same DEK. Every other input fails with an error wrapping ErrTampered.
// The result is a new slice the caller owns.
func (k *DEK) OpenBlob(ad string, ciphertext []byte) ([]byte, error) {
	pt, err := k.open([]byte(blobADPrefix+ad), ciphertext)
	if err != nil {
		return nil, fmt.Errorf("open blob %q: %w", ad, err)
	}
	return pt, nil
}

func (k *DEK) seal(ad, plaintext []byte) ([]byte, error) {
	if !k.usable() {
		return nil, errors.New("nil or zero data key")
	}
	out := make([]byte, headerSize, Overhead+len(plaintext))
	out[0] = formatVersion
	nonce := out[1:headerSize]
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	return k.aead.Seal(out, nonce, plaintext, ad), nil
}

// open returns a fresh plaintext slice (never nil on success).
func (k *DEK) open(ad, ciphertext []byte) ([]byte, error) {
	if !k.usable() {
		return nil, errors.New("nil or zero data key")
	}
	if len(ciphertext) < Overhead {
		return nil, fmt.Errorf("%w: truncated (%d bytes, at least %d expected)", ErrTampered, len(ciphertext), Overhead)
	}
	if ciphertext[0] != formatVersion {
		return nil, fmt.Errorf("%w: unknown format version %d", ErrTampered, ciphertext[0])
	}
	pt, err := k.aead.Open(make([]byte, 0, len(ciphertext)-Overhead), ciphertext[1:headerSize], ciphertext[headerSize:], ad)
	if err != nil {
		return nil, ErrTampered
	}
	return pt, nil
}
