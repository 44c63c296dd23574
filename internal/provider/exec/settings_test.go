package exec

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/provider/random"
)

func TestNewSettings(t *testing.T) {
	create := []any{"./rotate.sh", "create"}
	with := func(kv ...any) provider.Settings {
		s := provider.Settings{"create": create}
		for i := 0; i < len(kv); i += 2 {
			s[kv[i].(string)] = kv[i+1]
		}
		return s
	}
	const secretish = "s3cr3t-admin-token"
	tests := []struct {
		name       string
		settings   provider.Settings
		generating bool
		check      func(t *testing.T, s settings)
		errKey     string // "" when valid
	}{
		{name: "minimal", settings: with(), check: func(t *testing.T, s settings) {
			if !slices.Equal(s.create, []string{"./rotate.sh", "create"}) || s.test != nil || s.revoke != nil {
				t.Errorf("commands = %q %q %q", s.create, s.test, s.revoke)
			}
			if s.timeout != DefaultTimeout || s.dir != "" || s.env != nil && len(s.env) != 0 {
				t.Errorf("defaults = %+v", s)
			}
		}},
		{name: "everything", settings: with(
			"test", []any{"./rotate.sh", "test"},
			"revoke", []string{"./rotate.sh", "revoke"},
			"generate", map[string]any{"length": 24, "encoding": "hex", "prefix": "k_"},
			"timeout", "1m30s",
			"dir", "scripts",
			"env", map[string]any{"B": "2", "A": secretish},
		), generating: true, check: func(t *testing.T, s settings) {
			if !slices.Equal(s.revoke, []string{"./rotate.sh", "revoke"}) || !slices.Equal(s.test, []string{"./rotate.sh", "test"}) {
				t.Errorf("commands = %q %q", s.test, s.revoke)
			}
			if *s.generate != (random.Spec{Length: 24, Encoding: random.Hex, Prefix: "k_"}) {
				t.Errorf("generate = %+v", *s.generate)
			}
			if s.timeout != 90*time.Second || s.dir != "scripts" {
				t.Errorf("timeout, dir = %v, %q", s.timeout, s.dir)
			}
			if !slices.Equal(s.env, []envVar{{"A", secretish}, {"B", "2"}}) {
				t.Errorf("env = %v", s.env)
			}
		}},
		{name: "generate defaults", settings: with("generate", map[string]any{}), generating: true, check: func(t *testing.T, s settings) {
			if *s.generate != (random.Spec{Length: 32, Encoding: random.Base64URL}) {
				t.Errorf("generate = %+v", *s.generate)
			}
		}},
		{name: "generate null", settings: with("generate", nil), generating: true},
		{name: "generate map[any]any", settings: with("generate", map[any]any{"encoding": "alnum"}), generating: true},
		{name: "argv scalars", settings: provider.Settings{"create": []any{"./x", 3, int64(4), uint64(5), true}}, check: func(t *testing.T, s settings) {
			if !slices.Equal(s.create, []string{"./x", "3", "4", "5", "true"}) {
				t.Errorf("create = %q", s.create)
			}
		}},
		{name: "empty argument kept", settings: provider.Settings{"create": []any{"./x", ""}}},

		{name: "missing create", settings: provider.Settings{"test": []any{"x"}}, errKey: "create"},
		{name: "nil settings", settings: nil, errKey: "create"},
		{name: "create string", settings: provider.Settings{"create": "./rotate.sh create"}, errKey: "create"},
		{name: "create empty", settings: provider.Settings{"create": []any{}}, errKey: "create"},
		{name: "create map", settings: provider.Settings{"create": map[string]any{}}, errKey: "create"},
		{name: "create bad item", settings: provider.Settings{"create": []any{"./x", 1.5}}, errKey: "create"},
		{name: "create empty program", settings: provider.Settings{"create": []any{"", "x"}}, errKey: "create"},
		{name: "test string", settings: with("test", "./t.sh"), errKey: "test"},
		{name: "test empty", settings: with("test", []any{}), errKey: "test"},
		{name: "revoke nested list", settings: with("revoke", []any{[]any{"x"}}), errKey: "revoke"},
		{name: "generate list", settings: with("generate", []any{"hex"}), errKey: "generate"},
		{name: "generate true", settings: with("generate", true), errKey: "generate"},
		{name: "generate non-string key", settings: with("generate", map[any]any{1: 2}), errKey: "generate"},
		{name: "generate unknown key", settings: with("generate", map[string]any{"previous": "X"}), errKey: "generate.previous"},
		{name: "generate bad length", settings: with("generate", map[string]any{"length": 8}), errKey: "generate.length"},
		{name: "generate bad encoding", settings: with("generate", map[string]any{"encoding": "b64"}), errKey: "generate.encoding"},
		{name: "generate bad prefix", settings: with("generate", map[string]any{"prefix": "a b"}), errKey: "generate.prefix"},
		{name: "timeout int", settings: with("timeout", 30), errKey: "timeout"},
		{name: "timeout no unit", settings: with("timeout", "30"), errKey: "timeout"},
		{name: "timeout zero", settings: with("timeout", "0s"), errKey: "timeout"},
		{name: "timeout negative", settings: with("timeout", "-5s"), errKey: "timeout"},
		{name: "dir not string", settings: with("dir", 1), errKey: "dir"},
		{name: "dir empty", settings: with("dir", ""), errKey: "dir"},
		{name: "env list", settings: with("env", []any{"A=1"}), errKey: "env"},
		{name: "env bad name", settings: with("env", map[string]any{"1A": "x"}), errKey: "env"},
		{name: "env name with dash", settings: with("env", map[string]any{"A-B": "x"}), errKey: "env"},
		{name: "env reserved", settings: with("env", map[string]any{"SLICKENV_NEW_VALUE": "x"}), errKey: "env"},
		{name: "env reserved meta", settings: with("env", map[string]any{"SLICKENV_META_X": "x"}), errKey: "env"},
		{name: "env value map", settings: with("env", map[string]any{"A": map[string]any{"k": secretish}}), errKey: "env"},
		{name: "env value float", settings: with("env", map[string]any{"A": 1.5}), errKey: "env"},
		{name: "unknown key", settings: with("crate", []any{"x"}), errKey: "crate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.settings)
			if tt.errKey != "" {
				if err == nil {
					t.Fatal("New succeeded")
				}
				if !errors.Is(err, provider.ErrSettings) {
					t.Errorf("error %v does not wrap ErrSettings", err)
				}
				if !strings.Contains(err.Error(), ": "+tt.errKey+": ") {
					t.Errorf("error %q does not name %q", err, tt.errKey)
				}
				if strings.Contains(err.Error(), secretish) {
					t.Errorf("error %q contains a setting's value", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			var s settings
			switch p := p.(type) {
			case *GeneratingProvider:
				if !tt.generating {
					t.Fatal("New returned a GeneratingProvider without generate")
				}
				s = p.s
			case *Provider:
				if tt.generating {
					t.Fatal("New returned a Provider with generate")
				}
				s = p.s
			default:
				t.Fatalf("New returned %T", p)
			}
			if p.Kind() != "exec" {
				t.Errorf("Kind() = %q", p.Kind())
			}
			if tt.check != nil {
				tt.check(t, s)
			}
		})
	}
}
