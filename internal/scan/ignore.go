package scan

import (
	"path"
	"strings"
)

// PathFilter skips paths that match any of a set of glob patterns
// (.slickenv.yaml's scan.ignore_paths). Patterns use path.Match syntax on
// slash-separated paths relative to the repository (or scanned directory)
// root; "**" matches any number of directories, and a pattern without a
// slash also matches a file's base name (like .gitignore).
type PathFilter struct{ patterns []string }

// NewPathFilter returns a filter for patterns (already validated by the
// config parser; an invalid pattern matches nothing).
func NewPathFilter(patterns []string) *PathFilter { return &PathFilter{patterns: patterns} }

// Skip reports whether p matches a pattern.
func (f *PathFilter) Skip(p string) bool {
	if f == nil {
		return false
	}
	for _, pat := range f.patterns {
		if globMatch(strings.Split(pat, "/"), strings.Split(p, "/")) {
			return true
		}
		if !strings.Contains(pat, "/") {
			if ok, _ := path.Match(pat, path.Base(p)); ok {
				return true
			}
		}
	}
	return false
}

func globMatch(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := 0; i <= len(name); i++ {
				if globMatch(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}
