package scan

import (
	"encoding/json"
	"io"
)

type jsonOwner struct {
	Environment string `json:"environment"`
	Variable    string `json:"variable"`
	Status      string `json:"status"`
	RetiredAt   string `json:"retired_at,omitempty"`
}

type jsonFinding struct {
	Rule          string      `json:"rule"`
	Description   string      `json:"description"`
	Secret        string      `json:"secret"`
	Redacted      bool        `json:"redacted"`
	Variable      string      `json:"variable,omitempty"`
	Environment   string      `json:"environment,omitempty"`
	Status        string      `json:"status,omitempty"`
	RetiredAt     string      `json:"retired_at,omitempty"`
	RotateCommand string      `json:"rotate_command,omitempty"`
	Owners        []jsonOwner `json:"owners,omitempty"`
	Path          string      `json:"path"`
	Line          int         `json:"line"`
	Column        int         `json:"column"`
	Blob          string      `json:"blob,omitempty"`
	Commit        string      `json:"commit,omitempty"`
	Author        string      `json:"author,omitempty"`
	Email         string      `json:"email,omitempty"`
	Date          string      `json:"date,omitempty"`
	Fingerprint   string      `json:"fingerprint"`
	Occurrences   int         `json:"occurrences"`
}

type jsonReport struct {
	Mode     string        `json:"mode"`
	Findings []jsonFinding `json:"findings"`
	Summary  struct {
		Secrets       int   `json:"secrets"`
		Findings      int   `json:"findings"`
		Live          int   `json:"live"`
		Blobs         int64 `json:"blobs"`
		Bytes         int64 `json:"bytes"`
		DurationMS    int64 `json:"duration_ms"`
		KnownValues   int   `json:"known_values"`
		SkippedValues int   `json:"skipped_values"`
		Baselined     int   `json:"baselined"`
	} `json:"summary"`
	Notes []string `json:"notes"`
}

func ts(t interface{ IsZero() bool }, s string) string {
	if t.IsZero() {
		return ""
	}
	return s
}

// WriteJSON renders the report as one JSON document. Its findings'
// fingerprints make it usable as a --baseline file.
func WriteJSON(w io.Writer, r *Report) error {
	var doc jsonReport
	doc.Mode = r.Mode
	doc.Findings = []jsonFinding{}
	doc.Notes = append([]string{}, r.Notes...)
	secrets := map[string]bool{}
	for i := range r.Findings {
		f := &r.Findings[i]
		secrets[f.Subject()+secretHash(f.Secret)] = true
		jf := jsonFinding{Rule: f.RuleID, Description: f.Description, Secret: r.secretText(f), Redacted: r.Redact,
			Path: f.Path, Line: f.Line, Column: f.Column, Blob: f.Blob, Fingerprint: f.Fingerprint, Occurrences: f.Occurrences}
		if f.Known() && len(f.Owners) > 0 {
			o := f.Owners[0]
			jf.Variable, jf.Environment, jf.Status = o.Variable, o.Environment, o.Status()
			jf.RetiredAt = ts(o.RetiredAt, o.RetiredAt.UTC().Format("2006-01-02T15:04:05Z"))
			if o.Live {
				jf.RotateCommand = RotateCommand(o)
				doc.Summary.Live++
			}
			for _, o := range f.Owners {
				jf.Owners = append(jf.Owners, jsonOwner{o.Environment, o.Variable, o.Status(), ts(o.RetiredAt, o.RetiredAt.UTC().Format("2006-01-02T15:04:05Z"))})
			}
		}
		if c := f.Commit; c.ID != "" {
			jf.Commit, jf.Author, jf.Email, jf.Date = c.ID, c.Author, c.Email, c.Date.UTC().Format("2006-01-02T15:04:05Z")
		}
		doc.Findings = append(doc.Findings, jf)
	}
	s := &doc.Summary
	s.Secrets, s.Findings, s.Blobs, s.Bytes, s.DurationMS = len(secrets), len(r.Findings), r.Blobs, r.Bytes, r.Duration.Milliseconds()
	s.KnownValues, s.SkippedValues, s.Baselined = r.KnownValues, r.SkippedValues, r.Baselined
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(doc)
}
