package scan

import (
	"slices"
	"strings"
	"testing"
)

type occurrence struct{ id, start, end int }

// naiveFind is the reference: every occurrence of every pattern by
// repeated strings.Index.
func naiveFind(patterns []string, text string, fold bool) []occurrence {
	if fold {
		text = asciiLower(text)
	}
	var out []occurrence
	for id, p := range patterns {
		if p == "" {
			continue
		}
		if fold {
			p = asciiLower(p)
		}
		for i := 0; i+len(p) <= len(text); i++ {
			if text[i:i+len(p)] == p {
				out = append(out, occurrence{id, i, i + len(p)})
			}
		}
	}
	sortOcc(out)
	return out
}

func sortOcc(o []occurrence) {
	slices.SortFunc(o, func(a, b occurrence) int {
		if a.end != b.end {
			return a.end - b.end
		}
		if a.start != b.start {
			return a.start - b.start
		}
		return a.id - b.id
	})
}

func acFind(patterns []string, text string, fold bool) []occurrence {
	var out []occurrence
	NewMatcher(patterns, fold).FindAll([]byte(text), func(id, s, e int) bool {
		out = append(out, occurrence{id, s, e})
		return true
	})
	sortOcc(out)
	return out
}

func TestMatcher(t *testing.T) {
	tests := []struct {
		name     string
		patterns []string
		text     string
		fold     bool
		want     []occurrence
	}{
		{"classic", []string{"he", "she", "his", "hers"}, "ushers", false,
			[]occurrence{{1, 1, 4}, {0, 2, 4}, {3, 2, 6}}},
		{"no patterns", nil, "abc", false, nil},
		{"empty pattern ignored", []string{"", "a"}, "aa", false, []occurrence{{1, 0, 1}, {1, 1, 2}}},
		{"overlapping", []string{"aa"}, "aaaa", false, []occurrence{{0, 0, 2}, {0, 1, 3}, {0, 2, 4}}},
		{"duplicate patterns", []string{"ab", "ab"}, "xab", false, []occurrence{{0, 1, 3}, {1, 1, 3}}},
		{"suffix output", []string{"abcd", "bc", "c"}, "abcd", false,
			[]occurrence{{1, 1, 3}, {2, 2, 3}, {0, 0, 4}}},
		{"case sensitive", []string{"AKIA"}, "akia AKIA", false, []occurrence{{0, 5, 9}}},
		{"fold case", []string{"akia"}, "akia AKIA AkIa", true, []occurrence{{0, 0, 4}, {0, 5, 9}, {0, 10, 14}}},
		{"binary bytes", []string{"\x00\xff", "\xff"}, "a\x00\xff\xff", false, []occurrence{{0, 1, 3}, {1, 2, 3}, {1, 3, 4}}},
		{"no match", []string{"secret"}, "secre secreT", false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := acFind(tt.patterns, tt.text, tt.fold)
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
			if ref := naiveFind(tt.patterns, tt.text, tt.fold); !slices.Equal(got, ref) {
				t.Errorf("got %v, reference %v", got, ref)
			}
		})
	}
}

func TestMatcherStop(t *testing.T) {
	m := NewMatcher([]string{"a"}, false)
	n := 0
	m.FindAll([]byte("aaaa"), func(int, int, int) bool { n++; return n < 2 })
	if n != 2 {
		t.Fatalf("fn called %d times after returning false, want 2", n)
	}
	if !m.Contains([]byte("xa")) || m.Contains([]byte("xyz")) {
		t.Fatal("Contains is wrong")
	}
}

// FuzzMatcher checks the automaton against strings.Contains/Index for any
// patterns and text.
func FuzzMatcher(f *testing.F) {
	f.Add("he\x00she\x00his\x00hers", "ushers", false)
	f.Add("aa\x00a\x00aaa", "aaaaab", true)
	f.Add("AKIA\x00sk_live_", "xAKIAsk_LIVE_", true)
	f.Fuzz(func(t *testing.T, pats, text string, fold bool) {
		patterns := strings.Split(pats, "\x00")
		if len(patterns) > 16 {
			patterns = patterns[:16]
		}
		got := acFind(patterns, text, fold)
		want := naiveFind(patterns, text, fold)
		if !slices.Equal(got, want) {
			t.Fatalf("patterns %q text %q fold %v: got %v, want %v", patterns, text, fold, got, want)
		}
		m := NewMatcher(patterns, fold)
		for _, p := range patterns {
			hay, needle := text, p
			if fold {
				hay, needle = asciiLower(hay), asciiLower(needle)
			}
			if p != "" && strings.Contains(hay, needle) && !m.Contains([]byte(text)) {
				t.Fatalf("Contains(%q) false though %q occurs", text, p)
			}
		}
	})
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
