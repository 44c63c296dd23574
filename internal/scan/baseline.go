package scan

import (
	"encoding/json"
	"fmt"
	"os"
)

// Baseline is a set of fingerprints of accepted findings. The file is JSON:
// either {"fingerprints": ["…"]} as WriteBaseline writes it, or a JSON report
// of an earlier scan (its findings' "fingerprint" fields). It never holds a
// secret.
type Baseline struct{ fps map[string]bool }

// LoadBaseline reads a baseline file.
func LoadBaseline(path string) (*Baseline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("baseline: %w", err)
	}
	var doc struct {
		Fingerprints []string `json:"fingerprints"`
		Findings     []struct {
			Fingerprint string `json:"fingerprint"`
		} `json:"findings"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("baseline %s: %w", path, err)
	}
	b := &Baseline{fps: map[string]bool{}}
	for _, fp := range doc.Fingerprints {
		b.fps[fp] = true
	}
	for _, f := range doc.Findings {
		b.fps[f.Fingerprint] = true
	}
	return b, nil
}

// Contains reports whether the baseline lists fp. A nil Baseline lists
// nothing.
func (b *Baseline) Contains(fp string) bool { return b != nil && b.fps[fp] }

// Len returns the number of fingerprints.
func (b *Baseline) Len() int {
	if b == nil {
		return 0
	}
	return len(b.fps)
}
