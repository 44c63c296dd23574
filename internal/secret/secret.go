// Package secret provides Value, the type every secret value travels in.
//
// A Value never prints itself: String, GoString, Format, MarshalJSON,
// MarshalText and LogValue all yield the redaction marker. Code that needs the
// bytes calls Reveal, so `grep -n Reveal` lists every place a plaintext leaves
// the type.
package secret

import (
	"crypto/subtle"
	"fmt"
	"log/slog"
)

// Redacted is what a Value prints instead of its contents.
const Redacted = "**redacted**"

// Value is an immutable secret value. The zero Value is the empty secret.
type Value struct {
	b []byte
}

// New returns a Value holding a copy of s.
func New(s string) Value { return Value{b: []byte(s)} }

// FromBytes returns a Value holding a copy of b.
func FromBytes(b []byte) Value { return Value{b: append([]byte(nil), b...)} }

// Reveal returns the plaintext. Every caller is a place where a secret leaves
// the redacting type; keep them few and obvious.
func (v Value) Reveal() string { return string(v.b) }

// RevealBytes returns a copy of the plaintext bytes.
func (v Value) RevealBytes() []byte { return append([]byte(nil), v.b...) }

// Len returns the length of the value in bytes.
func (v Value) Len() int { return len(v.b) }

// IsEmpty reports whether the value is the empty string.
func (v Value) IsEmpty() bool { return len(v.b) == 0 }

// Equal reports whether v and o hold the same bytes, in constant time for
// values of equal length.
func (v Value) Equal(o Value) bool { return subtle.ConstantTimeCompare(v.b, o.b) == 1 }

// String implements fmt.Stringer and redacts.
func (v Value) String() string { return Redacted }

// GoString implements fmt.GoStringer and redacts.
func (v Value) GoString() string { return "secret.Value(" + Redacted + ")" }

// Format implements fmt.Formatter so that every verb (%v, %s, %q, %x, %#v, …)
// redacts.
func (v Value) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(v.GoString()))
		return
	}
	_, _ = f.Write([]byte(Redacted))
}

// MarshalJSON redacts. Code that must emit a value (get --json, export) does
// so explicitly with Reveal.
func (v Value) MarshalJSON() ([]byte, error) { return []byte(`"` + Redacted + `"`), nil }

// MarshalText redacts (covers YAML, XML and other text encoders).
func (v Value) MarshalText() ([]byte, error) { return []byte(Redacted), nil }

// LogValue implements slog.LogValuer and redacts.
func (v Value) LogValue() slog.Value { return slog.StringValue(Redacted) }
