package random

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/secret"
)

// Encoding names how random bytes become the characters of a value.
type Encoding string

// The encodings a Spec accepts.
const (
	// Hex is lowercase hexadecimal: Length bytes make 2×Length characters.
	Hex Encoding = "hex"
	// Base64URL is the URL-safe base64 alphabet of RFC 4648 §5 without
	// padding: Length bytes make ⌈4×Length/3⌉ characters.
	Base64URL Encoding = "base64url"
	// Alnum is Length characters drawn uniformly from [A-Za-z0-9].
	Alnum Encoding = "alnum"
)

// Defaults and bounds of a Spec.
const (
	DefaultLength   = 32
	DefaultEncoding = Base64URL
	// MaxLength bounds Length; longer values are a configuration mistake.
	MaxLength = 4096
	// MinEntropyBits is the least entropy a Spec may describe: 16 bytes for
	// hex and base64url, 22 characters for alnum (22×log2(62) ≈ 131 bits).
	MinEntropyBits = 128
	// MaxPrefixLength bounds Prefix.
	MaxPrefixLength = 64
)

const alnumAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// Spec describes the shape of a generated value: Prefix followed by Length
// units of Encoding. The zero Spec is invalid; ParseSpec fills in defaults.
type Spec struct {
	Length   int // bytes of entropy for Hex and Base64URL, characters for Alnum
	Encoding Encoding
	Prefix   string // prepended verbatim, e.g. "whsec_"; printable, no spaces
}

// Spec setting keys, shared by the random provider's settings and the exec
// provider's generate map.
const (
	keyLength   = "length"
	keyEncoding = "encoding"
	keyPrefix   = "prefix"
)

// ParseSpec reads the keys length, encoding and prefix from settings, fills in
// the defaults (32, base64url, no prefix) and validates the result. Any other
// key, a value of the wrong type or an out-of-range value is a *SettingsError
// (wrapping provider.ErrSettings) naming the key. A nil map yields the
// default Spec.
func ParseSpec(settings map[string]any) (Spec, error) {
	spec := Spec{Length: DefaultLength, Encoding: DefaultEncoding}
	for _, key := range sortedKeys(settings) {
		v := settings[key]
		switch key {
		case keyLength:
			n, err := intSetting(v)
			if err != nil {
				return Spec{}, settingsError(key, "%v", err)
			}
			spec.Length = n
		case keyEncoding:
			s, ok := v.(string)
			if !ok {
				return Spec{}, settingsError(key, "expected one of hex, base64url, alnum")
			}
			spec.Encoding = Encoding(s)
		case keyPrefix:
			s, ok := v.(string)
			if !ok {
				return Spec{}, settingsError(key, "expected a string")
			}
			spec.Prefix = s
		default:
			return Spec{}, unknownKeyError(key, keyLength, keyEncoding, keyPrefix)
		}
	}
	if err := spec.validate(); err != nil {
		return Spec{}, err
	}
	return spec, nil
}

func (s Spec) validate() error {
	switch s.Encoding {
	case Hex, Base64URL, Alnum:
	default:
		return settingsError(keyEncoding, "unknown encoding %q (want hex, base64url or alnum)", string(s.Encoding))
	}
	if s.Length < 1 || s.Length > MaxLength {
		return settingsError(keyLength, "%d is out of range (1 to %d)", s.Length, MaxLength)
	}
	if bits := s.EntropyBits(); bits < MinEntropyBits {
		return settingsError(keyLength, "%d %s gives %.0f bits of entropy; at least %d are required (length %d or more)",
			s.Length, s.unit(), math.Floor(bits), MinEntropyBits, s.minLength())
	}
	if len(s.Prefix) > MaxPrefixLength {
		return settingsError(keyPrefix, "longer than %d bytes", MaxPrefixLength)
	}
	for _, r := range s.Prefix {
		// Printable ASCII without space or quotes keeps values safe in .env
		// files, shells, headers and URLs.
		if r <= ' ' || r >= 0x7f || r == '"' || r == '\'' || r == '`' || r == '\\' || r == '#' || r == '$' {
			return settingsError(keyPrefix, "%q is not allowed (use printable ASCII without spaces, quotes, '\\', '#' or '$')", r)
		}
	}
	return nil
}

func (s Spec) unit() string {
	if s.Encoding == Alnum {
		return "characters"
	}
	return "bytes"
}

func (s Spec) minLength() int {
	if s.Encoding == Alnum {
		return int(math.Ceil(MinEntropyBits / math.Log2(float64(len(alnumAlphabet)))))
	}
	return MinEntropyBits / 8
}

// EntropyBits is the entropy of a value of this Spec, in bits.
func (s Spec) EntropyBits() float64 {
	if s.Encoding == Alnum {
		return float64(s.Length) * math.Log2(float64(len(alnumAlphabet)))
	}
	return float64(s.Length) * 8
}

// EncodedLength is the length in bytes of a value of this Spec, prefix
// included.
func (s Spec) EncodedLength() int {
	switch s.Encoding {
	case Hex:
		return len(s.Prefix) + hex.EncodedLen(s.Length)
	case Base64URL:
		return len(s.Prefix) + base64.RawURLEncoding.EncodedLen(s.Length)
	default:
		return len(s.Prefix) + s.Length
	}
}

// Generate returns a new value of this Spec from crypto/rand. Alnum uses
// rejection sampling, so every character is uniform over the 62 symbols.
func (s Spec) Generate() (secret.Value, error) {
	if err := s.validate(); err != nil {
		return secret.Value{}, err
	}
	out := make([]byte, 0, s.EncodedLength())
	out = append(out, s.Prefix...)
	switch s.Encoding {
	case Hex, Base64URL:
		raw := make([]byte, s.Length)
		if _, err := rand.Read(raw); err != nil {
			return secret.Value{}, fmt.Errorf("read random bytes: %w", err)
		}
		if s.Encoding == Hex {
			out = hex.AppendEncode(out, raw)
		} else {
			out = base64.RawURLEncoding.AppendEncode(out, raw)
		}
		clear(raw)
	case Alnum:
		var err error
		if out, err = appendAlnum(out, s.Length); err != nil {
			return secret.Value{}, err
		}
	}
	v := secret.FromBytes(out)
	clear(out)
	return v, nil
}

// appendAlnum appends n characters drawn uniformly from alnumAlphabet. A
// random byte b is used only when b < 248 (the largest multiple of 62 that
// fits in a byte), as b mod 62; larger bytes are rejected, because keeping
// them would make the first 8 symbols more likely than the others.
func appendAlnum(out []byte, n int) ([]byte, error) {
	const limit = 256 - 256%len(alnumAlphabet) // 248
	buf := make([]byte, n+n/4+8)               // ~3% of bytes are rejected
	defer clear(buf)
	for n > 0 {
		if _, err := rand.Read(buf); err != nil {
			return nil, fmt.Errorf("read random bytes: %w", err)
		}
		for _, b := range buf {
			if int(b) >= limit {
				continue
			}
			out = append(out, alnumAlphabet[int(b)%len(alnumAlphabet)])
			if n--; n == 0 {
				break
			}
		}
	}
	return out, nil
}

// ErrShape is wrapped by Check when a value does not have its Spec's shape.
var ErrShape = errors.New("value does not have the configured shape")

// Check reports whether v has this Spec's shape: the prefix, then exactly
// Length units of the encoding. The error wraps ErrShape and never contains
// the value.
func (s Spec) Check(v secret.Value) error {
	raw := v.Reveal()
	body, ok := strings.CutPrefix(raw, s.Prefix)
	if !ok {
		return fmt.Errorf("%w: missing prefix %q", ErrShape, s.Prefix)
	}
	switch s.Encoding {
	case Hex:
		// hex.DecodeString accepts upper case; generated values are lower case.
		if strings.ContainsFunc(body, func(r rune) bool { return !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') }) {
			return fmt.Errorf("%w: not lowercase hex", ErrShape)
		}
		if len(body) != 2*s.Length {
			return fmt.Errorf("%w: %d hex characters, want %d", ErrShape, len(body), 2*s.Length)
		}
	case Base64URL:
		b, err := base64.RawURLEncoding.Strict().DecodeString(body)
		if err != nil {
			return fmt.Errorf("%w: not unpadded base64url", ErrShape)
		}
		clear(b)
		if len(b) != s.Length {
			return fmt.Errorf("%w: %d bytes, want %d", ErrShape, len(b), s.Length)
		}
	case Alnum:
		if strings.ContainsFunc(body, func(r rune) bool { return !strings.ContainsRune(alnumAlphabet, r) }) {
			return fmt.Errorf("%w: not alphanumeric", ErrShape)
		}
		if len(body) != s.Length {
			return fmt.Errorf("%w: %d characters, want %d", ErrShape, len(body), s.Length)
		}
	default:
		return fmt.Errorf("%w: unknown encoding %q", ErrShape, string(s.Encoding))
	}
	return nil
}

// SettingsError is an invalid setting. It wraps provider.ErrSettings.
type SettingsError struct {
	Key    string // the setting, e.g. "length"
	Reason string // what is wrong with it; never contains a value
}

func (e *SettingsError) Error() string {
	return provider.ErrSettings.Error() + ": " + e.Key + ": " + e.Reason
}

// Unwrap returns provider.ErrSettings.
func (e *SettingsError) Unwrap() error { return provider.ErrSettings }

func settingsError(key, format string, args ...any) error {
	return &SettingsError{Key: key, Reason: fmt.Sprintf(format, args...)}
}

func unknownKeyError(key string, known ...string) error {
	return &SettingsError{Key: key, Reason: "unknown setting (known: " + strings.Join(known, ", ") + ")"}
}
