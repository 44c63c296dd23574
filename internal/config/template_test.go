package config

import (
	"strings"
	"testing"
)

func TestTemplate(t *testing.T) {
	tests := []string{"shop", "null", "true", "1e3", "0x10", "a.b_c-d", "2024"}
	for _, project := range tests {
		t.Run(project, func(t *testing.T) {
			tmpl := Template(project)
			cfg, err := Parse(tmpl, FileName)
			if err != nil {
				t.Fatalf("template does not parse: %v\n%s", err, tmpl)
			}
			if cfg.Project != project {
				t.Errorf("project = %q, want %q", cfg.Project, project)
			}
			if cfg.DefaultEnv != "development" {
				t.Errorf("default_env = %q", cfg.DefaultEnv)
			}
			want := Policy{WarnAfter: DefaultWarnAfter, MaxAge: DefaultMaxAge}
			if cfg.Policy != want {
				t.Errorf("policy = %+v, want %+v", cfg.Policy, want)
			}
			if cfg.Secrets != nil {
				t.Errorf("secrets = %v, want none", cfg.Secrets)
			}
		})
	}
}

// TestTemplateExamples checks that every commented-out example in the
// template is valid once uncommented.
func TestTemplateExamples(t *testing.T) {
	var b strings.Builder
	for _, line := range strings.SplitAfter(string(Template("shop")), "\n") {
		if rest, ok := strings.CutPrefix(line, "# "); ok && isExampleLine(rest) {
			line = rest
		}
		b.WriteString(line)
	}
	cfg, err := Parse([]byte(b.String()), FileName)
	if err != nil {
		t.Fatalf("uncommented template does not parse: %v\n%s", err, b.String())
	}
	s, ok := cfg.Secrets["DATABASE_URL"]
	if !ok || s.Provider != "postgres" || len(s.Targets) != 3 || len(s.Verify.Checks) != 2 || s.Verify.Drain == nil {
		t.Errorf("example secret = %+v", s)
	}
	if cfg.Store == "" || cfg.Actor == "" || len(cfg.Scan.IgnorePaths) != 1 {
		t.Errorf("examples not all uncommented: %+v", cfg)
	}
}

// isExampleLine tells YAML examples from prose: they are keys or list items.
func isExampleLine(s string) bool {
	trimmed := strings.TrimLeft(s, " ")
	if strings.HasPrefix(trimmed, "- ") {
		return true
	}
	key, _, ok := strings.Cut(trimmed, ":")
	return ok && !strings.Contains(key, " ")
}
