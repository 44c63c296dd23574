package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func lookupIn(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	}
}

func TestExpandRefs(t *testing.T) {
	vars := map[string]string{
		"PG_ADMIN_URL": "postgres://admin:s3cret@db/shop",
		"A":            "alpha",
		"a.b-c":        "dotted",
		"EMPTY":        "",
		"NESTED":       "${A}",
	}
	tests := []struct {
		in, want string
	}{
		{"", ""},
		{"plain", "plain"},
		{"${PG_ADMIN_URL}", "postgres://admin:s3cret@db/shop"},
		{"x=${A}, y=${A}", "x=alpha, y=alpha"},
		{"${a.b-c}", "dotted"},
		{"[${EMPTY}]", "[]"},
		{"${NESTED}", "${A}"},
		{"$$", "$"},
		{"$${A}", "${A}"},
		{"$$$${A}", "$${A}"},
		{"$$${A}", "$alpha"},
		{"pa$word", "pa$word"},
		{"$", "$"},
		{"cost: 5$", "cost: 5$"},
		{"$A", "$A"},
		{"}{$}", "}{$}"},
		{"ünïcode ${A} ✓", "ünïcode alpha ✓"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ExpandRefs(tt.in, lookupIn(vars))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("ExpandRefs(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestExpandRefsErrors(t *testing.T) {
	vars := map[string]string{"KNOWN": "value-must-not-leak"}
	tests := []struct {
		in, want string
		unknown  bool
	}{
		{"${MISSING}", "unknown reference ${MISSING}", true},
		{"${KNOWN}${MISSING}", "unknown reference ${MISSING}", true},
		{"${KNOWN", "unterminated reference at offset 0", false},
		{"ab${", "unterminated reference at offset 2", false},
		{"${}", `empty reference "${}"`, false},
		{"${A B}", `invalid reference name "A B"`, false},
		{"${${A}}", `invalid reference name "${A"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ExpandRefs(tt.in, lookupIn(vars))
			if err == nil {
				t.Fatalf("ExpandRefs(%q) = %q, want error", tt.in, got)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
			if strings.Contains(err.Error(), vars["KNOWN"]) {
				t.Errorf("error %q leaks a value", err)
			}
			if errors.Is(err, ErrUnknownRef) != tt.unknown {
				t.Errorf("errors.Is(%v, ErrUnknownRef) = %v", err, !tt.unknown)
			}
		})
	}
}

func TestRefs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"no refs $here", nil},
		{"${PG_ADMIN_URL}", []string{"PG_ADMIN_URL"}},
		{"${B}-${A}-${B}", []string{"B", "A"}},
		{"$${ESCAPED} ${REAL}", []string{"REAL"}},
		{"${bad name} ${OK} ${", []string{"OK"}},
		{"${}", nil},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := Refs(tt.in); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Refs(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestExpandSettings(t *testing.T) {
	settings := map[string]any{
		"admin_url": "${PG_ADMIN_URL}",
		"roles":     []any{"app_blue", "${ROLE}"},
		"port":      5432,
		"nested":    map[string]any{"k": "$${literal}"},
	}
	vars := map[string]string{"PG_ADMIN_URL": "postgres://x", "ROLE": "app_green"}
	got, err := ExpandSettings(settings, lookupIn(vars))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"admin_url": "postgres://x",
		"roles":     []any{"app_blue", "app_green"},
		"port":      5432,
		"nested":    map[string]any{"k": "${literal}"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ExpandSettings = %v, want %v", got, want)
	}
	if settings["admin_url"] != "${PG_ADMIN_URL}" || settings["roles"].([]any)[1] != "${ROLE}" {
		t.Error("ExpandSettings modified its input")
	}
	if refs := SettingsRefs(settings); !reflect.DeepEqual(refs, []string{"PG_ADMIN_URL", "ROLE"}) {
		t.Errorf("SettingsRefs = %v", refs)
	}

	_, err = ExpandSettings(settings, lookupIn(map[string]string{"PG_ADMIN_URL": "x"}))
	if !errors.Is(err, ErrUnknownRef) || err.Error() != "roles[1]: unknown reference ${ROLE}" {
		t.Errorf("error = %v", err)
	}
	if got, err := ExpandSettings(nil, lookupIn(vars)); got != nil || err != nil {
		t.Errorf("ExpandSettings(nil) = %v, %v", got, err)
	}
}

func FuzzExpandRefs(f *testing.F) {
	for _, s := range []string{"", "${A}", "$$", "$${A}", "${", "${}", "$", "a$b${c.d-e}$$$", "${A}${B}${C"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		const marker = "<VALUE>"
		got, err := ExpandRefs(s, func(name string) (string, bool) {
			if !ValidSecretName(name) {
				t.Fatalf("lookup called with invalid name %q", name)
			}
			return marker, name != "UNKNOWN"
		})
		refs := Refs(s)
		if err != nil {
			if strings.Contains(err.Error(), marker) {
				t.Fatalf("error %q contains a value", err)
			}
			return
		}
		if len(refs) > 0 && !strings.Contains(got, marker) {
			t.Fatalf("ExpandRefs(%q) = %q, but Refs found %q", s, got, refs)
		}
		// With no references, expansion only unescapes "$$".
		if len(refs) == 0 && !strings.Contains(s, "${") && got != strings.ReplaceAll(s, "$$", "$") {
			t.Fatalf("ExpandRefs(%q) = %q", s, got)
		}
	})
}

func TestRefsLinear(t *testing.T) {
	for _, s := range []string{strings.Repeat("${", 1<<17), strings.Repeat("${ ", 1<<17) + "}", strings.Repeat("${a b}", 1<<16)} {
		start := time.Now()
		Refs(s)
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("Refs on %d bytes took %v", len(s), d)
		}
	}
}
