package scan

import (
	"github.com/slickenv/slickenv/internal/secret"
	"os"
	"testing"
)

// TestRuleSamples checks every rule against its own true and false
// positives, with the full detector (prefilter, windows, validation).
func TestRuleSamples(t *testing.T) {
	rules := DefaultRules()
	d := NewDetector(rules, nil)
	seen := map[string]bool{}
	for _, r := range rules {
		if seen[r.ID] {
			t.Errorf("duplicate rule id %s", r.ID)
		}
		seen[r.ID] = true
		if len(r.TruePositives) == 0 || len(r.FalsePositives) == 0 || len(r.Keywords) == 0 {
			t.Errorf("rule %s needs keywords and true and false positive samples", r.ID)
		}
		for _, s := range r.TruePositives {
			t.Run(r.ID+"/tp", func(t *testing.T) {
				var found bool
				for _, m := range d.Detect([]byte(s), false) {
					found = found || m.Rule == r
				}
				if !found {
					t.Errorf("%s does not find %q", r.ID, s)
				}
			})
		}
		for _, s := range r.FalsePositives {
			t.Run(r.ID+"/fp", func(t *testing.T) {
				if ms := d.Detect([]byte(s), false); len(ms) > 0 {
					t.Errorf("%q: unexpected findings %v (first: %s)", s, len(ms), ms[0].RuleID())
				}
			})
		}
	}
}

func TestInlineAllow(t *testing.T) {
	d := NewDetector(DefaultRules(), nil)
	data := "a = 1\nkey = AKIAZ5WQ3RJX2N7TLMPE # slickenv:allow\nkey2 = AKIAZ5WQ3RJX2N7TLMPF\n"
	ms := d.Detect([]byte(data), false)
	if len(ms) != 1 || ms[0].Line != 3 || ms[0].Column != 8 {
		t.Fatalf("got %+v, want one match at 3:8", ms)
	}
}

func TestBinarySkipsRulesNotKnownValues(t *testing.T) {
	kv := []KnownValue{{Value: secretValue("Zq8vT3nP7wKxAB")}}
	d := NewDetector(DefaultRules(), kv)
	data := []byte("\x00\x01AKIAZ5WQ3RJX2N7TLMPE\x00Zq8vT3nP7wKxAB\x00")
	ms := d.Detect(data, looksBinary(data))
	if len(ms) != 1 || ms[0].Known == nil {
		t.Fatalf("got %d matches, want only the known value", len(ms))
	}
}

func secretValue(s string) secret.Value { return secret.New(s) }

// TestKnownValuesExactCase: the shared automaton folds case for keywords,
// but known values match byte for byte.
func TestKnownValuesExactCase(t *testing.T) {
	d := NewDetector(DefaultRules(), []KnownValue{{Value: secretValue("Zq8vT3nP7wKxAB")}})
	if ms := d.Detect([]byte("ZQ8VT3NP7WKXAB zq8vt3np7wkxab"), false); len(ms) != 0 {
		t.Fatalf("case variants matched: %d", len(ms))
	}
	if ms := d.Detect([]byte("x=Zq8vT3nP7wKxAB"), false); len(ms) != 1 || ms[0].Start != 2 || ms[0].Column != 3 {
		t.Fatalf("exact value: %+v", ms)
	}
}

// FuzzDetect: any input, no panic, and every match is in bounds, names
// the text it covers, and has a sane position.
func FuzzDetect(f *testing.F) {
	d := NewDetector(DefaultRules(), []KnownValue{{Value: secretValue("Zq8vT3nP7wKxAB")}})
	for _, r := range DefaultRules() {
		for _, s := range append(r.TruePositives, r.FalsePositives...) {
			f.Add([]byte(s))
		}
	}
	f.Add([]byte("a\nZq8vT3nP7wKxAB\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, m := range d.Detect(data, looksBinary(data)) {
			if m.Start < 0 || m.End > len(data) || m.Start >= m.End || m.Line < 1 || m.Column < 1 {
				t.Fatalf("bad match %+v", m)
			}
			if string(data[m.Start:m.End]) != m.Secret.Reveal() {
				t.Fatalf("secret %q is not the text at %d:%d", m.Secret.Reveal(), m.Start, m.End)
			}
		}
	})
}

func FuzzLoadBaseline(f *testing.F) {
	f.Add([]byte(`{"fingerprints":["a:b:c"]}`))
	f.Add([]byte(`{"findings":[{"fingerprint":"x"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := t.TempDir() + "/b.json"
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		b, err := LoadBaseline(p)
		if err == nil && b == nil {
			t.Fatal("nil baseline without error")
		}
	})
}
