// Package status computes secret ages and policy verdicts for
// `slickenv status`.
//
// It works on metadata only (names, timestamps, outcomes), never on values,
// and knows nothing of the config file or the store: the caller supplies each
// variable's effective Policy, as config.Config.SecretPolicy computes it.
//
// # Verdicts
//
// A variable is OK within its policy, Warn once its age reaches WarnAfter
// (due for rotation) and Expired once it reaches MaxAge. Verdicts are ordered,
// so `--fail-on LEVEL` fails when Worst(rows) >= LEVEL.
package status

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Verdict is the policy verdict for one variable. Verdicts are ordered from
// best to worst: OK < Warn < Expired.
type Verdict int

// The verdicts, best first.
const (
	OK      Verdict = iota // within policy
	Warn                   // age at or past WarnAfter: due for rotation
	Expired                // age at or past MaxAge
)

// String returns "ok", "warn" or "expired" ("Verdict(N)" for other values).
func (v Verdict) String() string {
	switch v {
	case OK:
		return "ok"
	case Warn:
		return "warn"
	case Expired:
		return "expired"
	}
	return "Verdict(" + strconv.Itoa(int(v)) + ")"
}

// Symbol returns the table symbol: "✓", "⚠" or "✗" ("?" for other values).
func (v Verdict) Symbol() string {
	switch v {
	case OK:
		return "✓"
	case Warn:
		return "⚠"
	case Expired:
		return "✗"
	}
	return "?"
}

// MarshalText returns String, so verdicts read as words in JSON output.
func (v Verdict) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// ParseLevel parses a --fail-on level: "warn" gives Warn, "expired" Expired
// (case-insensitive, surrounding spaces ignored). Any other input is an error
// naming it and listing the valid values.
func ParseLevel(s string) (Verdict, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "warn":
		return Warn, nil
	case "expired":
		return Expired, nil
	}
	return OK, fmt.Errorf("invalid level %q: use warn or expired", s)
}

// Policy is the effective age policy of one variable. A zero field means
// "no limit".
type Policy struct {
	WarnAfter time.Duration
	MaxAge    time.Duration
}

// Evaluate returns Expired when MaxAge > 0 and age >= MaxAge, else Warn when
// WarnAfter > 0 and age >= WarnAfter, else OK.
func Evaluate(age time.Duration, p Policy) Verdict {
	switch {
	case p.MaxAge > 0 && age >= p.MaxAge:
		return Expired
	case p.WarnAfter > 0 && age >= p.WarnAfter:
		return Warn
	}
	return OK
}

// Var is the metadata of one variable of an environment. It never holds the
// value.
type Var struct {
	Name                string
	Since               time.Time // when the current value first entered the environment
	Provider            string    // rotation provider kind; "" when rotated by hand
	Exposed             bool      // a member who could read it was removed: rotate it
	LastRotation        string    // when or which rotation last ran, as the caller renders it; "" for never
	LastRotationOutcome string    // e.g. "done", "rolled_back"; "" for never
}

// Row is one line of the status table.
type Row struct {
	Var
	Age     time.Duration // time since Since at the evaluation time; never negative
	Policy  Policy
	Verdict Verdict
}

// Rows evaluates every variable at time now with the policy policyFor returns
// for its name, and returns one row per variable sorted by name (variables with
// the same name keep their input order). A Since after now (clock skew) counts
// as age zero. vars is not modified.
func Rows(now time.Time, vars []Var, policyFor func(name string) Policy) []Row {
	rows := make([]Row, 0, len(vars))
	for _, v := range vars {
		age := max(now.Sub(v.Since), 0)
		p := policyFor(v.Name)
		rows = append(rows, Row{Var: v, Age: age, Policy: p, Verdict: Evaluate(age, p)})
	}
	slices.SortStableFunc(rows, func(a, b Row) int { return cmp.Compare(a.Name, b.Name) })
	return rows
}

// Worst returns the worst verdict among rows; OK when rows is empty.
func Worst(rows []Row) Verdict {
	worst := OK
	for _, r := range rows {
		worst = max(worst, r.Verdict)
	}
	return worst
}

// HumanAge formats d for a table, truncated to its largest unit: "45s" under a
// minute, "12m" under an hour, "5h" under a day, then days: "3d", "412d".
// Negative durations print as "0s".
func HumanAge(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	case d < time.Hour:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d < 24*time.Hour:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	}
	return strconv.FormatInt(int64(d/(24*time.Hour)), 10) + "d"
}
