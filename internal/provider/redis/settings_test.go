package redis

import (
	"errors"
	"strings"
	"testing"

	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/provider/random"
)

func TestNewSettings(t *testing.T) {
	const admin = "redis://admin:adminsecret@127.0.0.1:6379/0"
	tests := []struct {
		name     string
		settings provider.Settings
		errKey   string // "" when valid
		spec     random.Spec
		user     string
		test     string
	}{
		{name: "minimal", settings: provider.Settings{"admin_url": admin}, spec: random.Spec{Length: 32, Encoding: random.Base64URL}, test: DefaultTestPrefix},
		{name: "all", settings: provider.Settings{"admin_url": admin, "user": "app", "length": 24, "encoding": "alnum", "test": "myapp:probe:"},
			spec: random.Spec{Length: 24, Encoding: random.Alnum}, user: "app", test: "myapp:probe:"},
		{name: "missing admin_url", settings: nil, errKey: "admin_url"},
		{name: "admin_url not string", settings: provider.Settings{"admin_url": 1}, errKey: "admin_url"},
		{name: "admin_url not redis", settings: provider.Settings{"admin_url": "postgres://admin:adminsecret@h/db"}, errKey: "admin_url"},
		{name: "admin_url unparsable", settings: provider.Settings{"admin_url": "redis://admin:admin%zzsecret@h/0"}, errKey: "admin_url"},
		{name: "user with space", settings: provider.Settings{"admin_url": admin, "user": "a b"}, errKey: "user"},
		{name: "user empty", settings: provider.Settings{"admin_url": admin, "user": ""}, errKey: "user"},
		{name: "test empty", settings: provider.Settings{"admin_url": admin, "test": ""}, errKey: "test"},
		{name: "weak length", settings: provider.Settings{"admin_url": admin, "length": 8}, errKey: "length"},
		{name: "prefix is not a setting", settings: provider.Settings{"admin_url": admin, "prefix": "x"}, errKey: "prefix"},
		{name: "unknown", settings: provider.Settings{"admin_url": admin, "users": []any{"a"}}, errKey: "users"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.settings)
			if tt.errKey != "" {
				if err == nil {
					t.Fatal("New succeeded")
				}
				if !errors.Is(err, provider.ErrSettings) || !strings.Contains(err.Error(), tt.errKey) {
					t.Errorf("error %v: want ErrSettings naming %q", err, tt.errKey)
				}
				if strings.Contains(err.Error(), "adminsecret") {
					t.Errorf("error contains the admin password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			rp := p.(*Provider)
			if rp.spec != tt.spec || rp.user != tt.user || rp.testPrefix != tt.test {
				t.Errorf("got spec %+v user %q test %q", rp.spec, rp.user, rp.testPrefix)
			}
		})
	}
}
