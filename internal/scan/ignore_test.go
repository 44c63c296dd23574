package scan

import "testing"

func TestPathFilter(t *testing.T) {
	f := NewPathFilter([]string{"testdata/**", "*.golden", "docs/*.md", "vendor/**/x.go"})
	tests := []struct {
		path string
		skip bool
	}{
		{"testdata/a.env", true},
		{"testdata/deep/er/b.env", true},
		{"pkg/testdata/a.env", false},
		{"report.golden", true},
		{"a/b/report.golden", true},
		{"docs/scan.md", true},
		{"docs/sub/scan.md", false},
		{"vendor/x.go", true},
		{"vendor/a/b/x.go", true},
		{"main.go", false},
	}
	for _, tt := range tests {
		if got := f.Skip(tt.path); got != tt.skip {
			t.Errorf("Skip(%q) = %v, want %v", tt.path, got, tt.skip)
		}
	}
	var nilFilter *PathFilter
	if nilFilter.Skip("x") {
		t.Error("nil filter skips")
	}
}

// FuzzPathFilter: any pattern and path, no panic; "**" matches every path;
// a literal pattern matches itself.
func FuzzPathFilter(f *testing.F) {
	f.Add("testdata/**", "a/testdata/b")
	f.Add("*.golden", "x/y.golden")
	f.Add("[a", "a")
	f.Fuzz(func(t *testing.T, pattern, p string) {
		NewPathFilter([]string{pattern}).Skip(p)
		if !NewPathFilter([]string{"**"}).Skip(p) {
			t.Fatalf("** does not match %q", p)
		}
	})
}
