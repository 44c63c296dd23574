package config

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Day and Week are the calendar-free units Duration adds to Go's: a day is
// always 24 hours and a week always 7 days (secret ages do not care about
// daylight saving time).
const (
	Day  = 24 * time.Hour
	Week = 7 * Day
)

// Duration is a non-negative time.Duration written the way people write
// rotation policies: "90d", "1w", "1d12h", "1.5h", "30m", "45s", "500ms".
//
// ParseDuration accepts a sequence of decimal numbers, each with an optional
// fraction and a unit: w, d, h, m, s, ms, and Go's us (or µs) and ns. Plain Go
// durations ("1h30m") are therefore valid too, as is "0".
//
// String prints the canonical form: days, hours, minutes, seconds,
// milliseconds, microseconds and nanoseconds, largest first, each only when
// non-zero, with no fractions and no weeks: 36h prints as "1d12h", 90 days as
// "90d", 1.5s as "1s500ms", zero as "0s". For every Duration d that
// ParseDuration returns, ParseDuration(d.String()) returns d again.
type Duration time.Duration

// Std returns d as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String returns the canonical form of d described on Duration.
func (d Duration) String() string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	u := uint64(d)
	if d < 0 {
		// Not produced by ParseDuration, but printable for debugging.
		b.WriteByte('-')
		u = -u
	}
	for _, c := range canonicalUnits() {
		if n := u / c.size; n > 0 {
			fmt.Fprintf(&b, "%d%s", n, c.name)
			u -= n * c.size
		}
	}
	return b.String()
}

type durationUnit struct {
	name string
	size uint64
}

// canonicalUnits lists the units String uses, largest first.
func canonicalUnits() []durationUnit {
	return []durationUnit{
		{"d", uint64(Day)},
		{"h", uint64(time.Hour)},
		{"m", uint64(time.Minute)},
		{"s", uint64(time.Second)},
		{"ms", uint64(time.Millisecond)},
		{"us", uint64(time.Microsecond)},
		{"ns", uint64(time.Nanosecond)},
	}
}

// unitSize returns the length of the named unit in nanoseconds.
func unitSize(name string) (uint64, bool) {
	switch name {
	case "w":
		return uint64(Week), true
	case "d":
		return uint64(Day), true
	case "h":
		return uint64(time.Hour), true
	case "m":
		return uint64(time.Minute), true
	case "s":
		return uint64(time.Second), true
	case "ms":
		return uint64(time.Millisecond), true
	case "us", "µs", "μs": // U+00B5 micro sign and U+03BC Greek mu, as Go accepts.
		return uint64(time.Microsecond), true
	case "ns":
		return uint64(time.Nanosecond), true
	}
	return 0, false
}

const acceptedUnits = "w, d, h, m, s, ms, us, ns"

func durationError(input, reason string) error {
	return fmt.Errorf("invalid duration %q: %s (write a number and a unit: %s; e.g. 90d, 1d12h, 1.5h)", input, reason, acceptedUnits)
}

// ParseDuration parses s as described on Duration. The error names s and the
// accepted units. Negative durations and durations beyond time.Duration's
// range (about 292 years) are errors; "-0" is zero.
func ParseDuration(s string) (Duration, error) {
	orig := s
	if s == "" {
		return 0, durationError(orig, "empty")
	}
	neg := false
	if s[0] == '-' || s[0] == '+' {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "0" {
		return 0, nil
	}
	if s == "" {
		return 0, durationError(orig, "no number")
	}
	const limit = 1 << 63 // one past the largest time.Duration
	var total uint64
	for s != "" {
		var whole, frac uint64
		scale := 1.0

		if !(s[0] == '.' || '0' <= s[0] && s[0] <= '9') {
			return 0, durationError(orig, fmt.Sprintf("expected a number at %q", s))
		}
		before := len(s)
		var ok bool
		whole, s, ok = leadingInt(s)
		if !ok {
			return 0, durationError(orig, "out of range")
		}
		hasWhole := len(s) != before
		hasFrac := false
		if s != "" && s[0] == '.' {
			s = s[1:]
			before := len(s)
			frac, scale, s = leadingFraction(s)
			hasFrac = len(s) != before
		}
		if !hasWhole && !hasFrac {
			return 0, durationError(orig, "expected a number")
		}

		i := 0
		for i < len(s) && s[i] != '.' && (s[i] < '0' || s[i] > '9') {
			i++
		}
		name := s[:i]
		s = s[i:]
		if name == "" {
			return 0, durationError(orig, "missing unit")
		}
		size, ok := unitSize(name)
		if !ok {
			return 0, durationError(orig, fmt.Sprintf("unknown unit %q", name))
		}
		if whole > limit/size {
			return 0, durationError(orig, "out of range")
		}
		whole *= size
		if frac > 0 {
			whole += uint64(float64(frac) * (float64(size) / scale))
			if whole > limit {
				return 0, durationError(orig, "out of range")
			}
		}
		total += whole
		if total > limit {
			return 0, durationError(orig, "out of range")
		}
	}
	if total == 0 {
		return 0, nil
	}
	if neg {
		return 0, durationError(orig, "negative durations are not allowed")
	}
	if total > limit-1 {
		return 0, durationError(orig, "out of range")
	}
	return Duration(total), nil
}

// leadingInt consumes the leading [0-9]* from s; ok is false when the number
// exceeds 1<<63.
func leadingInt(s string) (x uint64, rem string, ok bool) {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			break
		}
		if x > 1<<63/10 {
			return 0, rem, false
		}
		x = x*10 + uint64(c) - '0'
		if x > 1<<63 {
			return 0, rem, false
		}
	}
	return x, s[i:], true
}

// leadingFraction consumes the leading [0-9]* from s, keeping the digits that
// still fit in x; scale is the power of ten x must be divided by.
func leadingFraction(s string) (x uint64, scale float64, rem string) {
	i := 0
	scale = 1
	overflow := false
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			break
		}
		if overflow {
			continue
		}
		if x > (1<<63-1)/10 {
			overflow = true
			continue
		}
		y := x*10 + uint64(c) - '0'
		if y > 1<<63 {
			overflow = true
			continue
		}
		x = y
		scale *= 10
	}
	return x, scale, s[i:]
}

// UnmarshalYAML parses a YAML scalar with ParseDuration.
func (d *Duration) UnmarshalYAML(value *yaml.Node) error {
	if value.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: expected a duration such as 90d", value.Line)
	}
	v, err := ParseDuration(value.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", value.Line, err)
	}
	*d = v
	return nil
}

// MarshalYAML returns the canonical string form of d.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// MarshalText returns the canonical string form of d (used by encoding/json).
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText parses text with ParseDuration.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := ParseDuration(string(text))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Set parses s with ParseDuration, so a *Duration can serve as a command-line
// flag value (pflag.Value).
func (d *Duration) Set(s string) error { return d.UnmarshalText([]byte(s)) }

// Type names the flag value type for help output.
func (d *Duration) Type() string { return "duration" }
