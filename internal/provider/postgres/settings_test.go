package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/provider/random"
	"github.com/slickenv/slickenv/internal/secret"
)

const testAdminURL = "postgres://admin:adm1n-s3cret@db:5432/postgres"

func validSettings() provider.Settings {
	return provider.Settings{"admin_url": testAdminURL, "roles": []any{"app_blue", "app_green"}}
}

func TestNewSettings(t *testing.T) {
	with := func(k string, v any) provider.Settings {
		s := validSettings()
		if v == nil {
			delete(s, k)
		} else {
			s[k] = v
		}
		return s
	}
	tests := []struct {
		name     string
		settings provider.Settings
		errKey   string
	}{
		{name: "minimal", settings: validSettings()},
		{name: "everything", settings: provider.Settings{
			"admin_url": "host=db user=admin password='x y'", "roles": []string{"a", "b"}, "group": "app",
			"length": 24, "encoding": "alnum", "test": map[string]any{"read": "SELECT 1 FROM items", "write": "INSERT INTO t VALUES (1)"}}},
		{name: "admin_url missing", settings: with("admin_url", nil), errKey: "admin_url"},
		{name: "admin_url empty", settings: with("admin_url", ""), errKey: "admin_url"},
		{name: "admin_url not a string", settings: with("admin_url", 5), errKey: "admin_url"},
		{name: "admin_url invalid", settings: with("admin_url", "postgres://admin:adm1n-s3cret@db:notaport/x"), errKey: "admin_url"},
		{name: "roles missing", settings: with("roles", nil), errKey: "roles"},
		{name: "one role", settings: with("roles", []any{"a"}), errKey: "roles"},
		{name: "three roles", settings: with("roles", []any{"a", "b", "c"}), errKey: "roles"},
		{name: "same role twice", settings: with("roles", []any{"a", "a"}), errKey: "roles"},
		{name: "role not a string", settings: with("roles", []any{"a", 1}), errKey: "roles"},
		{name: "role empty", settings: with("roles", []any{"a", ""}), errKey: "roles"},
		{name: "role too long", settings: with("roles", []any{"a", strings.Repeat("r", 64)}), errKey: "roles"},
		{name: "roles a string", settings: with("roles", "a,b"), errKey: "roles"},
		{name: "group equals a role", settings: with("group", "app_blue"), errKey: "group"},
		{name: "group not a string", settings: with("group", []any{"x"}), errKey: "group"},
		{name: "length too weak", settings: with("length", 8), errKey: "length"},
		{name: "encoding unknown", settings: with("encoding", "base32"), errKey: "encoding"},
		{name: "prefix is not a setting", settings: with("prefix", "pg_"), errKey: "prefix"},
		{name: "test not a map", settings: with("test", "SELECT 1"), errKey: "test"},
		{name: "test unknown key", settings: with("test", map[string]any{"delete": "x"}), errKey: "test.delete"},
		{name: "test empty read", settings: with("test", map[string]any{"read": " "}), errKey: "test.read"},
		{name: "unknown key", settings: with("admin", "x"), errKey: "admin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.settings)
			if tt.errKey == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if p.Kind() != "postgres" {
					t.Errorf("Kind = %q", p.Kind())
				}
				return
			}
			if err == nil {
				t.Fatal("New succeeded")
			}
			if !errors.Is(err, provider.ErrSettings) {
				t.Errorf("%v does not wrap provider.ErrSettings", err)
			}
			var se *SettingsError
			var re *random.SettingsError
			switch {
			case errors.As(err, &se):
				if se.Key != tt.errKey {
					t.Errorf("error names %q, want %q", se.Key, tt.errKey)
				}
			case errors.As(err, &re):
				if re.Key != tt.errKey {
					t.Errorf("error names %q, want %q", re.Key, tt.errKey)
				}
			default:
				t.Errorf("error %v names no key", err)
			}
			if strings.Contains(err.Error(), "adm1n-s3cret") {
				t.Errorf("error %q quotes the admin password", err)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	p, err := New(validSettings())
	if err != nil {
		t.Fatal(err)
	}
	s := p.(*Provider).s
	if s.read != DefaultReadProbe || s.write != DefaultWriteProbe {
		t.Errorf("probes %q %q", s.read, s.write)
	}
	if s.spec != (random.Spec{Length: 32, Encoding: random.Base64URL}) {
		t.Errorf("spec %+v", s.spec)
	}
}

func TestDetect(t *testing.T) {
	p, _ := New(validSettings())
	d := p.(provider.Detector)
	for v, want := range map[string]bool{
		"postgres://u:p@h/db": true,
		"postgresql://h/db":   true,
		"POSTGRES://h/db":     false, // libpq and pgx read only lower case

		"host=h user=u":              false,
		"mysql://u:p@h/db":           false,
		"https://postgres.example/x": false,
		"":                           false,
	} {
		if got := d.Detect(secret.New(v)); got != want {
			t.Errorf("Detect(%q) = %v", v, got)
		}
	}
}

func TestScrub(t *testing.T) {
	pw := `p@ss w'rd/%`
	raw := fmt.Errorf("connect: %s %s %s failed", pw, escapeURL(pw), quoteDSN(pw))
	err := scrub(raw, pw)
	if strings.Contains(err.Error(), "ss w") || strings.Contains(err.Error(), "w%27rd") {
		t.Errorf("scrub left a form of the password: %v", err)
	}
	if !strings.Contains(err.Error(), "**redacted**") {
		t.Errorf("scrub: %v", err)
	}
	// Classification survives, the driver error does not.
	err = scrub(fmt.Errorf("x: %w", &pgconn.PgError{Code: "28P01", Message: "password authentication failed"}))
	if !errors.Is(err, ErrAuthentication) {
		t.Errorf("%v does not wrap ErrAuthentication", err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		t.Error("a scrubbed error exposes the driver error")
	}
	err = scrub(fmt.Errorf("x: %w", &pgconn.PgError{Code: "42501"}))
	if !errors.Is(err, ErrPrivileges) {
		t.Errorf("%v does not wrap ErrPrivileges", err)
	}
	if err := scrub(fmt.Errorf("x: %w", context.DeadlineExceeded)); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%v lost the deadline", err)
	}
	if scrub(nil) != nil {
		t.Error("scrub(nil) != nil")
	}
}

func TestCreateRejectsBadCurrentWithoutServer(t *testing.T) {
	p, _ := New(validSettings())
	for _, v := range []string{"not a connection string", "postgres://h/db", "postgres://root:s3cret-v4lue@h/db"} {
		_, err := p.Create(context.Background(), provider.CreateRequest{RotationID: "r", Current: provider.Credential{Value: secret.New(v)}})
		if err == nil {
			t.Fatalf("Create accepted %q", v)
		}
		if strings.Contains(err.Error(), "s3cret-v4lue") {
			t.Errorf("error %q quotes the password", err)
		}
	}
}

func TestUnreachableServerErrorsOmitPasswords(t *testing.T) {
	// Port 1 on loopback refuses connections: no server needed.
	const adminPW, appPW = "adm1n-unre4chable", "app-unre4chable-pw"
	p, err := New(provider.Settings{
		"admin_url": "postgres://admin:" + adminPW + "@127.0.0.1:1/postgres?connect_timeout=2",
		"roles":     []any{"app_blue", "app_green"},
	})
	if err != nil {
		t.Fatal(err)
	}
	c := provider.Credential{Value: secret.New("host=127.0.0.1 port=1 user=app_blue password=" + appPW + " connect_timeout=2")}
	ctx := context.Background()
	_, inUseErr := p.(provider.UsageReporter).InUse(ctx, c)
	_, termErr := p.(provider.Terminator).Terminate(ctx, c)
	_, createErr := p.Create(ctx, provider.CreateRequest{RotationID: "r", Current: c})
	for what, err := range map[string]error{
		"Test": p.Test(ctx, c), "Revoke": p.Revoke(ctx, c), "InUse": inUseErr, "Terminate": termErr, "Create": createErr,
	} {
		if err == nil {
			t.Errorf("%s succeeded against no server", what)
			continue
		}
		if strings.Contains(err.Error(), adminPW) || strings.Contains(err.Error(), appPW) {
			t.Errorf("%s: error %q contains a password", what, err)
		}
		if !strings.HasPrefix(err.Error(), "postgres: ") {
			t.Errorf("%s: error %q lacks context", what, err)
		}
	}
}
