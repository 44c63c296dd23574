package scan

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/slickenv/slickenv/internal/secret"
)

// Finding is one secret at one path. In history scans it is attributed to
// the commit that first introduced it there; later blobs at the same path
// holding the same secret are counted in Occurrences.
type Finding struct {
	RuleID      string
	Description string
	Secret      secret.Value
	Owners      []Owner // known values: every variable that held the secret
	Path        string
	Line        int
	Column      int
	Blob        string // git object id; "" for files read from disk
	Commit      Commit // zero outside history scans, or when unattributed
	Fingerprint string // see Fingerprint
	Occurrences int    // blobs (versions of the file) holding it; at least 1
}

// Known reports whether the finding is a known value.
func (f *Finding) Known() bool { return f.RuleID == KnownValueRule }

// Subject is what leaked: "known-value/ENV/NAME" or the rule ID.
func (f *Finding) Subject() string {
	if f.Known() && len(f.Owners) > 0 {
		o := f.Owners[0]
		return KnownValueRule + "/" + o.Environment + "/" + o.Variable
	}
	return f.RuleID
}

// Live reports whether the finding is a known value that is still the
// current value of some variable.
func (f *Finding) Live() bool { return f.Known() && len(f.Owners) > 0 && f.Owners[0].Live }

// Fingerprint identifies a finding across scans without revealing the
// secret: subject, path and a truncated SHA-256 of the secret.
func Fingerprint(subject, path string, s secret.Value) string {
	return fmt.Sprintf("%s:%s:%s", subject, path, secretHash(s))
}

func secretHash(s secret.Value) string {
	sum := sha256.Sum256(s.RevealBytes())
	return hex.EncodeToString(sum[:8])
}

// Redact shows the first four characters of a secret (fewer for a secret
// shorter than 12: at most a third of it) and an ellipsis: enough to
// recognise it, not to use it.
func Redact(s secret.Value) string {
	r := []rune(s.Reveal())
	return string(r[:min(4, len(r)/3)]) + "…"
}

// Ago renders how long before now t was: "just now", "3 days ago",
// "8 months ago", "2 years ago".
func Ago(now, t time.Time) string {
	d := now.Sub(t)
	if d < 0 {
		d = 0
	}
	unit := func(n int64, s string) string {
		if n == 1 {
			return "1 " + s + " ago"
		}
		return fmt.Sprintf("%d %ss ago", n, s)
	}
	day := 24 * time.Hour
	switch {
	case d < time.Minute:
		return "just now"
	case d < time.Hour:
		return unit(int64(d/time.Minute), "minute")
	case d < day:
		return unit(int64(d/time.Hour), "hour")
	case d < 30*day:
		return unit(int64(d/day), "day")
	case d < 365*day:
		return unit(int64(d/(30*day)), "month")
	}
	return unit(int64(d/(365*day)), "year")
}
