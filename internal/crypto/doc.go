// Package crypto holds every cryptographic operation of slickenv: personal
// identities, environment data keys, value sealing and value fingerprints.
//
// Everything here runs on the client. A server stores the outputs of this
// package (ciphertexts, wrapped keys, fingerprints) and never holds a key that
// opens them.
//
// # Keys
//
// An [Identity] is an age X25519 key pair belonging to a person or a machine.
// Its public half, the recipient ("age1…"), is what a project lists as a
// member. Identities are loaded by [LoadIdentity] from the environment
// (SLICKENV_IDENTITY, SLICKENV_IDENTITY_FILE) or from the identity file in the
// slickenv config directory.
//
// Each environment has one random 256-bit data key, a [DEK]. The DEK is
// wrapped with age to every member's recipient ([WrapDEK], [UnwrapDEK]);
// values are sealed under the DEK itself ([DEK.Seal], [DEK.Open]).
//
// # Format
//
// A sealed value, and a sealed blob, is
//
//	version (1 byte, 0x01) || nonce (24 random bytes) || XChaCha20-Poly1305 ciphertext and 16-byte tag
//
// so a ciphertext is exactly 41 bytes longer than its plaintext. The AEAD key
// is the DEK. The associated data binds the ciphertext to where it lives:
//
//	value in a slot:  "slickenv/value/v1" 0x00 project 0x00 env 0x00 name
//	blob:             "slickenv/blob/v1" 0x00 ad
//
// NUL cannot occur in project, environment or variable names, and [Slot]
// fields containing NUL are rejected, so the slot encoding is unambiguous:
// distinct slots always yield distinct associated data, including slots whose
// "project/env/name" spellings coincide. The two prefixes differ, so a blob
// never opens as a value nor a value as a blob, whatever ad string a caller
// picks.
//
// A wrapped DEK is a binary age file (no armor) encrypted to exactly one X25519
// recipient whose payload is the 32 raw DEK bytes.
//
// A value fingerprint is HMAC-SHA256 keyed with 32 bytes derived from the DEK
// by HKDF-SHA256 (no salt, info "slickenv fingerprint v1") over the plaintext
// value bytes. A key ID ([DEK.ID]) is the hex encoding of 8 bytes derived the
// same way with info "slickenv key id v1".
//
// An identity file is an age identity file: optional "#" comment lines, then
// one "AGE-SECRET-KEY-1…" line. slickenv writes
//
//	# created: 2006-01-02T15:04:05Z07:00
//	# public key: age1…
//	AGE-SECRET-KEY-1…
//
// # Secrecy
//
// No error, String, GoString, Format, MarshalJSON or LogValue output of this
// package contains private key material, a DEK or a plaintext value.
// [Identity.MarshalText] is the single deliberate exception: it produces the
// identity file, secret key included.
package crypto
