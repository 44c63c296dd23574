package scan

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func sampleReport(redact bool) *Report {
	jan := time.Date(2025, 1, 10, 10, 0, 0, 0, time.UTC)
	findings := []Finding{
		{RuleID: KnownValueRule, Description: "known value", Secret: secretValue(plantedStripe),
			Owners: []Owner{{Environment: "production", Variable: "STRIPE_SECRET_KEY", Live: true},
				{Environment: "staging", Variable: "STRIPE_KEY", RetiredAt: time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)}},
			Path: "config/app.env", Line: 3, Column: 19, Blob: "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1",
			Commit: Commit{ID: "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00", Author: "Alice", Email: "alice@example.com", Date: jan, Path: "config/app.env"}, Occurrences: 3},
		{RuleID: KnownValueRule, Description: "known value", Secret: secretValue(plantedKnown),
			Owners: []Owner{{Environment: "production", Variable: "WEBHOOK_SECRET", RetiredAt: time.Date(2025, 4, 2, 0, 0, 0, 0, time.UTC)}},
			Path:   "notes.txt", Line: 1, Column: 1},
		{RuleID: "aws-access-key", Description: "AWS access key ID", Secret: secretValue(plantedAWS),
			Path: "deploy/creds.txt", Line: 2, Column: 19, Blob: "a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2a2",
			Commit: Commit{ID: "deadbeefdeadbeefdeadbeefdeadbeefdeadbeef", Author: "Bob", Email: "bob@example.com", Date: jan.AddDate(0, 3, 0)}, Occurrences: 1},
	}
	for i := range findings {
		f := &findings[i]
		f.Fingerprint = Fingerprint(f.Subject(), f.Path, f.Secret)
		if f.Occurrences == 0 {
			f.Occurrences = 1
		}
	}
	return &Report{Mode: "history", Findings: findings, Redact: redact, Now: time.Date(2025, 9, 15, 0, 0, 0, 0, time.UTC),
		Version: "test", Blobs: 42, Bytes: 123456, Duration: 1234 * time.Millisecond, KnownValues: 7, SkippedValues: 2,
		Notes: []string{"environment ops: this identity cannot decrypt it; its values are not looked for"}}
}

func TestReportGolden(t *testing.T) {
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, format, sampleReport(true)); err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", "report."+format+".golden")
			if *update {
				if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("%s report differs from %s (go test -update to accept):\n%s", format, golden, buf.String())
			}
			if format != "text" && !json.Valid(buf.Bytes()) {
				t.Error("invalid JSON")
			}
		})
	}
}

// TestRedaction: no format prints a whole secret unless asked to.
func TestRedaction(t *testing.T) {
	secrets := []string{plantedStripe, plantedKnown, plantedAWS}
	for _, format := range Formats {
		var red, full bytes.Buffer
		if err := Write(&red, format, sampleReport(true)); err != nil {
			t.Fatal(err)
		}
		if err := Write(&full, format, sampleReport(false)); err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if strings.Contains(red.String(), s) || strings.Contains(red.String(), s[:9]) {
				t.Errorf("%s: redacted report shows %q", format, s[:9])
			}
			if !strings.Contains(red.String(), s[:4]+"…") {
				t.Errorf("%s: redacted report lacks the %q prefix", format, s[:4])
			}
			if !strings.Contains(full.String(), s) {
				t.Errorf("%s: --redact=false report lacks the secret", format)
			}
		}
	}
	// Fingerprints never contain the secret.
	for _, f := range sampleReport(true).Findings {
		if strings.Contains(f.Fingerprint, f.Secret.Reveal()[:9]) {
			t.Errorf("fingerprint %s holds the secret", f.Fingerprint)
		}
	}
}

func TestAgo(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := map[time.Duration]string{
		10 * time.Second:         "just now",
		90 * time.Minute:         "1 hour ago",
		3 * 24 * time.Hour:       "3 days ago",
		245 * 24 * time.Hour:     "8 months ago",
		2 * 366 * 24 * time.Hour: "2 years ago",
	}
	for d, want := range tests {
		if got := Ago(now, now.Add(-d)); got != want {
			t.Errorf("Ago(%v) = %q, want %q", d, got, want)
		}
	}
}
