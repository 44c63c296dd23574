package scan

import (
	"bytes"
	"slices"
	"strings"

	"github.com/slickenv/slickenv/internal/secret"
)

// AllowMarker on a line suppresses every finding that starts on it.
const AllowMarker = "slickenv:allow"

// ruleWindow bounds how far around a keyword a single-line rule looks.
const (
	ruleWindow      = 4 << 10
	multilineWindow = 16 << 10
)

// Match is one secret found in one blob.
type Match struct {
	Rule   *Rule       // nil for a known value
	Known  *KnownValue // nil for a rule match
	Start  int         // byte offsets of the secret in the blob
	End    int
	Line   int // 1-based line and column (in bytes) of Start
	Column int
	Secret secret.Value
}

// RuleID is the rule's ID, or KnownValueRule.
func (m Match) RuleID() string {
	if m.Known != nil {
		return KnownValueRule
	}
	return m.Rule.ID
}

// Detector runs both detectors over blobs. It is immutable once built and
// safe for concurrent use.
//
// One case-insensitive automaton holds both the rules' keywords and the
// known values, so each blob is read once; a known-value hit is confirmed
// byte for byte (values are matched exactly).
type Detector struct {
	rules   []*Rule
	kwRule  []int // keyword id → index in rules
	known   []KnownValue
	values  [][]byte // known values' bytes, by id - len(kwRule)
	matcher *Matcher
}

// NewDetector builds the automata for rules and known values.
func NewDetector(rules []*Rule, known []KnownValue) *Detector {
	d := &Detector{rules: rules, known: known}
	var kws []string
	for i, r := range rules {
		for _, k := range r.Keywords {
			kws = append(kws, k)
			d.kwRule = append(d.kwRule, i)
		}
	}
	for _, k := range known {
		d.values = append(d.values, k.Value.RevealBytes())
		kws = append(kws, k.Value.Reveal())
	}
	d.matcher = NewMatcher(kws, true)
	return d
}

// Detect returns the secrets in data, ordered by position. With binary,
// only known values are looked for (rules would match noise).
func (d *Detector) Detect(data []byte, binary bool) []Match {
	var out []Match
	var windows [][]window
	nkw := len(d.kwRule)
	d.matcher.FindAll(data, func(id, start, end int) bool {
		if id >= nkw {
			if k := id - nkw; bytes.Equal(data[start:end], d.values[k]) {
				out = append(out, Match{Known: &d.known[k], Start: start, End: end, Secret: d.known[k].Value})
			}
			return true
		}
		if binary {
			return true
		}
		if windows == nil {
			windows = make([][]window, len(d.rules))
		}
		r := d.kwRule[id]
		ws := windows[r]
		if n := len(ws); n > 0 && start < ws[n-1].end {
			return true // inside the previous window of this rule
		}
		var w window
		if d.rules[r].Multiline {
			w = window{lineStart(data, start, ruleWindow), min(len(data), start+multilineWindow)}
		} else {
			w = window{lineStart(data, start, ruleWindow), lineEnd(data, end, ruleWindow)}
		}
		windows[r] = append(ws, w)
		return true
	})
	if windows != nil {
		out = append(out, d.detectRules(data, windows, out)...)
	}
	slices.SortFunc(out, func(a, b Match) int {
		if a.Start != b.Start {
			return a.Start - b.Start
		}
		return strings.Compare(a.RuleID(), b.RuleID())
	})
	// Line and column, then the inline allow marker.
	kept := out[:0]
	line, lineStart, pos := 1, 0, 0
	for _, m := range out {
		for {
			i := bytes.IndexByte(data[pos:m.Start], '\n')
			if i < 0 {
				break
			}
			pos += i + 1
			line++
			lineStart = pos
		}
		pos = m.Start
		m.Line, m.Column = line, m.Start-lineStart+1
		end := bytes.IndexByte(data[m.Start:], '\n')
		if end < 0 {
			end = len(data)
		} else {
			end += m.Start
		}
		if bytes.Contains(data[lineStart:end], []byte(AllowMarker)) {
			continue
		}
		kept = append(kept, m)
	}
	return kept
}

type window struct{ start, end int }

func (d *Detector) detectRules(data []byte, windows [][]window, known []Match) []Match {
	var out []Match
	for r, ws := range windows {
		rule := d.rules[r]
		for _, w := range ws {
			for _, idx := range rule.Regex.FindAllSubmatchIndex(data[w.start:w.end], -1) {
				s, e := idx[2*rule.SecretGroup], idx[2*rule.SecretGroup+1]
				if s < 0 {
					continue
				}
				s, e = s+w.start, e+w.start
				sec := string(data[s:e])
				if rule.MinEntropy > 0 && entropy(sec) < rule.MinEntropy {
					continue
				}
				if rule.Valid != nil && !rule.Valid(sec) {
					continue
				}
				out = append(out, Match{Rule: rule, Start: s, End: e, Secret: secret.New(sec)})
			}
		}
	}
	// A known value says more than a rule; a specific rule more than the
	// generic one.
	keep := out[:0]
	for _, m := range out {
		if overlapsAny(m, known) || (m.Rule.ID == genericRuleID && overlapsSpecific(m, out)) || duplicate(m, keep) {
			continue
		}
		keep = append(keep, m)
	}
	return keep
}

const genericRuleID = "generic-secret"

func overlapsAny(m Match, others []Match) bool {
	for _, o := range others {
		if m.Start < o.End && o.Start < m.End {
			return true
		}
	}
	return false
}

func overlapsSpecific(m Match, all []Match) bool {
	for _, o := range all {
		if o.Rule.ID != genericRuleID && m.Start < o.End && o.Start < m.End {
			return true
		}
	}
	return false
}

func duplicate(m Match, kept []Match) bool {
	for _, o := range kept {
		if o.Rule == m.Rule && o.Start == m.Start && o.End == m.End {
			return true
		}
	}
	return false
}

func lineStart(data []byte, i, limit int) int {
	lo := max(0, i-limit)
	if j := bytes.LastIndexByte(data[lo:i], '\n'); j >= 0 {
		return lo + j + 1
	}
	return lo
}

func lineEnd(data []byte, i, limit int) int {
	hi := min(len(data), i+limit)
	if j := bytes.IndexByte(data[i:hi], '\n'); j >= 0 {
		return i + j
	}
	return hi
}

// looksBinary applies git's heuristic: a NUL byte in the first 8000 bytes.
func looksBinary(data []byte) bool {
	return bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0
}
