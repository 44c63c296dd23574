package crypto

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"filippo.io/age"
)

const (
	secretKeyPrefix   = "AGE-SECRET-KEY-1"
	pqSecretKeyPrefix = "AGE-SECRET-KEY-PQ-1"
	recipientPrefix   = "age1"
	createdComment    = "# created: "

	// maxIdentitySize bounds what ParseIdentity and LoadIdentity accept; an
	// identity file is about 150 bytes.
	maxIdentitySize = 64 << 10
)

// Identity is an age X25519 key pair. Its String, GoString, Format,
// MarshalJSON, MarshalYAML and LogValue all yield the public recipient, never
// the private key; only MarshalText reveals it, to write the identity file.
//
// The zero Identity is not usable; obtain one from GenerateIdentity,
// ParseIdentity or LoadIdentity.
type Identity struct {
	x         *age.X25519Identity
	recipient string
	created   time.Time // zero when unknown
}

func newIdentity(x *age.X25519Identity, created time.Time) *Identity {
	return &Identity{x: x, recipient: x.Recipient().String(), created: created}
}

// GenerateIdentity returns a new random identity. Its creation time is now.
func GenerateIdentity() (*Identity, error) {
	x, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, fmt.Errorf("generate identity: %w", err)
	}
	return newIdentity(x, time.Now().Truncate(time.Second)), nil
}

// ParseIdentity parses either a bare "AGE-SECRET-KEY-1…" key or the contents of
// an age identity file: lines are trimmed, blank lines and lines starting with
// "#" are ignored, and exactly one X25519 secret key line must remain. A
// "# created: RFC3339" comment, as written by MarshalText and age-keygen, is
// kept for MarshalText.
//
// Errors wrap ErrMalformedIdentity and name the offending line number, never
// its contents: a mistyped key is still mostly a key.
func ParseIdentity(s string) (*Identity, error) {
	if len(s) > maxIdentitySize {
		return nil, fmt.Errorf("parse identity: %w: longer than %d bytes", ErrMalformedIdentity, maxIdentitySize)
	}
	var (
		found   *age.X25519Identity
		created time.Time
	)
	for i, line := range strings.Split(s, "\n") {
		n := i + 1
		line = strings.TrimSpace(line)
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, createdComment):
			if t, err := time.Parse(time.RFC3339, strings.TrimPrefix(line, createdComment)); err == nil {
				created = t
			}
			continue
		case strings.HasPrefix(line, "#"):
			continue
		case strings.HasPrefix(line, pqSecretKeyPrefix):
			return nil, fmt.Errorf("parse identity: line %d: %w: post-quantum identities are not supported, use an X25519 identity", n, ErrMalformedIdentity)
		case strings.HasPrefix(strings.ToLower(line), recipientPrefix):
			return nil, fmt.Errorf("parse identity: line %d: %w: this is a public key (age1…), the identity is the secret key (%s…)", n, ErrMalformedIdentity, secretKeyPrefix)
		case !strings.HasPrefix(line, secretKeyPrefix):
			return nil, fmt.Errorf("parse identity: line %d: %w: not an age X25519 secret key (%s…)", n, ErrMalformedIdentity, secretKeyPrefix)
		}
		if found != nil {
			return nil, fmt.Errorf("parse identity: line %d: %w: more than one secret key, slickenv uses exactly one", n, ErrMalformedIdentity)
		}
		x, err := age.ParseX25519Identity(line)
		if err != nil {
			// age's error can quote characters of the key: drop it.
			return nil, fmt.Errorf("parse identity: line %d: %w: invalid secret key (bad characters or checksum)", n, ErrMalformedIdentity)
		}
		found = x
	}
	if found == nil {
		return nil, fmt.Errorf("parse identity: %w: no secret key (%s…) found", ErrMalformedIdentity, secretKeyPrefix)
	}
	return newIdentity(found, created), nil
}

// Recipient returns the identity's public key, "age1…". It returns "" for a
// nil or zero Identity.
func (id *Identity) Recipient() string {
	if id == nil {
		return ""
	}
	return id.recipient
}

// MarshalText returns the identity file contents:
//
//	# created: <RFC3339>
//	# public key: age1…
//	AGE-SECRET-KEY-1…
//
// The creation time is the one recorded at generation or parsed from the
// file, or now when unknown. This is the only method that reveals the private
// key; the result must only ever be written to a 0600 file (see
// WriteIdentityFile).
func (id *Identity) MarshalText() ([]byte, error) {
	if id == nil || id.x == nil {
		return nil, errors.New("marshal identity: empty identity")
	}
	created := id.created
	if created.IsZero() {
		created = time.Now()
	}
	var b strings.Builder
	b.WriteString(createdComment + created.Format(time.RFC3339) + "\n")
	b.WriteString("# public key: " + id.recipient + "\n")
	b.WriteString(id.x.String() + "\n")
	return []byte(b.String()), nil
}

// The printing methods below have value receivers so that an Identity
// printed by value redacts too.

// String returns Recipient(), never the private key.
func (id Identity) String() string { return id.recipient }

// GoString returns a Go-syntax-like form showing only the recipient.
func (id Identity) GoString() string {
	return fmt.Sprintf("crypto.Identity{Recipient: %q}", id.recipient)
}

// Format implements fmt.Formatter: %#v prints GoString, every other verb
// prints the recipient.
func (id Identity) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(id.GoString()))
		return
	}
	_, _ = f.Write([]byte(id.recipient))
}

// MarshalJSON encodes the recipient as a JSON string. It exists so that
// encoding/json does not fall back to MarshalText and emit the private key.
func (id Identity) MarshalJSON() ([]byte, error) { return json.Marshal(id.recipient) }

// MarshalYAML returns the recipient, for the same reason as MarshalJSON.
func (id Identity) MarshalYAML() (any, error) { return id.recipient, nil }

// LogValue implements slog.LogValuer with the recipient; without it,
// slog.TextHandler would call MarshalText.
func (id Identity) LogValue() slog.Value { return slog.StringValue(id.recipient) }

// ValidRecipient reports whether s is an X25519 age recipient ("age1…").
// Post-quantum, SSH and plugin recipients are not valid.
func ValidRecipient(s string) bool {
	_, err := age.ParseX25519Recipient(s)
	return err == nil
}
