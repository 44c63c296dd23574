package crypto

import "errors"

// Sentinel errors. Functions wrap them with context; test with errors.Is.
var (
	// ErrNoIdentity means no identity is configured or could be found.
	ErrNoIdentity = errors.New("no identity")

	// ErrNoAccess means the identity cannot open a wrapped data key: the key
	// was not wrapped to it (or the part of the wrap meant for it is damaged,
	// which is indistinguishable).
	ErrNoAccess = errors.New("identity cannot decrypt")

	// ErrTampered means a ciphertext failed authentication: it was modified,
	// truncated, moved to another slot or sealed under another key.
	ErrTampered = errors.New("ciphertext failed authentication")

	// ErrMalformedIdentity means an identity string or file could not be
	// parsed. Errors wrapping it never quote the input.
	ErrMalformedIdentity = errors.New("malformed identity")

	// ErrInsecureIdentityFile means an identity file is accessible to users
	// other than its owner (group or other permission bits are set).
	ErrInsecureIdentityFile = errors.New("identity file is accessible by other users")
)
