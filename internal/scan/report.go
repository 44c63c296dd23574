package scan

import (
	"fmt"
	"io"
	"time"
)

// Report is what the report writers render.
type Report struct {
	Mode     string // "tree", "staged" or "history"
	Findings []Finding
	Redact   bool      // show only the first four characters of each secret
	Now      time.Time // for "8 months ago"
	Version  string    // slickenv's version, for SARIF
	// Summary figures.
	Blobs         int64
	Bytes         int64
	Duration      time.Duration
	KnownValues   int // known values looked for
	SkippedValues int // known values not looked for: short or low entropy
	Baselined     int
	Notes         []string
}

// Formats lists the report formats by name.
var Formats = []string{"text", "json", "sarif"}

// Write renders r in format ("text", "json" or "sarif").
func Write(w io.Writer, format string, r *Report) error {
	switch format {
	case "text", "":
		return WriteText(w, r)
	case "json":
		return WriteJSON(w, r)
	case "sarif":
		return WriteSARIF(w, r)
	}
	return fmt.Errorf("unknown report format %q (have: text, json, sarif)", format)
}

// secretText is the secret as a report shows it.
func (r *Report) secretText(f *Finding) string {
	if r.Redact {
		return Redact(f.Secret)
	}
	return f.Secret.Reveal()
}

// RotateCommand is the command that replaces a live known value.
func RotateCommand(o Owner) string {
	return fmt.Sprintf("slickenv rotate %s -e %s", o.Variable, o.Environment)
}

// message is the one-line description of a finding, used by SARIF.
func (r *Report) message(f *Finding) string {
	if f.Known() && len(f.Owners) > 0 {
		o := f.Owners[0]
		if o.Live {
			return fmt.Sprintf("%s (%s) leaked; it is the live value: rotate now: %s", o.Variable, o.Environment, RotateCommand(o))
		}
		return fmt.Sprintf("%s (%s) leaked; retired: rotated away on %s", o.Variable, o.Environment, day(o.RetiredAt))
	}
	return fmt.Sprintf("%s: %s", f.Description, r.secretText(f))
}

func day(t time.Time) string {
	if t.IsZero() {
		return "an unknown date"
	}
	return t.UTC().Format("2006-01-02")
}
