package mysql

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/secret"
)

const nastyPassword = `p@ss:/?#%'"\ w0rd&=+;$,[]`

func TestParseValue(t *testing.T) {
	tests := []struct {
		name, in         string
		format           valueFormat
		user, pass, addr string
		db               string
	}{
		{"url", "mysql://app:secret@db.internal:3307/shop?parseTime=true", formatURL, "app", "secret", "db.internal:3307", "shop"},
		{"url default port", "mysql://app:secret@db.internal/shop", formatURL, "app", "secret", "db.internal:3306", "shop"},
		{"url mariadb scheme", "mariadb://app:secret@127.0.0.1:3306/", formatURL, "app", "secret", "127.0.0.1:3306", ""},
		{"url escaped", "mysql://app:" + escapeUserinfo(nastyPassword) + "@h:1/d", formatURL, "app", nastyPassword, "h:1", "d"},
		{"url ipv6", "mysql://app:pw@[::1]:3306/d", formatURL, "app", "pw", "[::1]:3306", "d"},
		{"dsn", "app:secret@tcp(127.0.0.1:3306)/shop?parseTime=true", formatDSN, "app", "secret", "127.0.0.1:3306", "shop"},
		{"dsn nasty", "app:" + nastyPassword + "@tcp(h:1)/d", formatDSN, "app", nastyPassword, "h:1", "d"},
		{"dsn no db", "root:pw@tcp(127.0.0.1:53306)/", formatDSN, "root", "pw", "127.0.0.1:53306", ""},
		{"dsn no password", "app@tcp(h:1)/d", formatDSN, "app", "", "h:1", "d"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := parseValue(tt.in)
			if err != nil {
				t.Fatalf("parseValue: %v", err)
			}
			if v.format != tt.format || v.user != tt.user || v.password != tt.pass || v.cfg.Addr != tt.addr || v.cfg.DBName != tt.db {
				t.Errorf("got format %d user %q pass %q addr %q db %q", v.format, v.user, v.password, v.cfg.Addr, v.cfg.DBName)
			}
			if v.cfg.User != tt.user || v.cfg.Passwd != tt.pass {
				t.Errorf("driver config has user %q pass %q", v.cfg.User, v.cfg.Passwd)
			}
		})
	}
}

func TestWithLoginKeepsFormat(t *testing.T) {
	tests := []struct{ in, want string }{
		{"mysql://app:old@db:3307/shop?parseTime=true&tls=false", "mysql://app_green:n3w-_x@db:3307/shop?parseTime=true&tls=false"},
		{"MySQL://app:old@db/shop", "MySQL://app_green:n3w-_x@db/shop"},
		{"mysql://app:" + escapeUserinfo(nastyPassword) + "@db:3307/", "mysql://app_green:n3w-_x@db:3307/"},
		{"app:old@tcp(db:3307)/shop?parseTime=true", "app_green:n3w-_x@tcp(db:3307)/shop?parseTime=true"},
		{"app:" + nastyPassword + "@tcp(db:3307)/shop", "app_green:n3w-_x@tcp(db:3307)/shop"},
	}
	for _, tt := range tests {
		v, err := parseValue(tt.in)
		if err != nil {
			t.Fatalf("parseValue: %v", err)
		}
		got, err := v.withLogin("app_green", "n3w-_x")
		if err != nil {
			t.Fatalf("withLogin: %v", err)
		}
		if got != tt.want {
			t.Errorf("withLogin:\n got %s\nwant %s", got, tt.want)
		}
	}
	// A nasty password round-trips through a URL.
	v, _ := parseValue("mysql://app:x@db/shop")
	got, err := v.withLogin("app", nastyPassword)
	if err != nil {
		t.Fatal(err)
	}
	back, err := parseValue(got)
	if err != nil || back.password != nastyPassword {
		t.Errorf("round trip: %v, password %q", err, back.password)
	}
	// In a DSN a password with '/' cannot be written when the value has
	// parameters with '/': withLogin refuses rather than corrupt it.
	v, _ = parseValue("app:x@tcp(db:1)/shop?loc=Europe%2FParis")
	if _, err := v.withLogin("app", "a/b"); err == nil {
		t.Log("a '/' in a DSN password round-trips here")
	}
}

func TestParseValueErrorsOmitValue(t *testing.T) {
	for _, in := range []string{
		"mysql://app:" + nastyPassword + "@db/shop", // unescaped: '#' and '/' break it
		"mysql://app:pa%zzss@db/shop",
		"mysql://:pw-only-secret@db/shop",
		"mysql://db/shop",
		"no-slash-secret-value",
		"app:pw-secret@tcp(db/shop",
		"slickenv marker !#% 0123",
	} {
		_, err := parseValue(in)
		if err == nil {
			t.Errorf("parseValue accepted %q", in)
			continue
		}
		for _, part := range []string{"secret", "pa%zzss", nastyPassword, "marker"} {
			if strings.Contains(in, part) && strings.Contains(err.Error(), part) {
				t.Errorf("error for %q quotes %q: %v", in, part, err)
			}
		}
	}
}

func TestEscapeUserinfo(t *testing.T) {
	if got := escapeUserinfo("a-Z_0.~@:/?#%'\" "); got != "a-Z_0.~%40%3A%2F%3F%23%25%27%22%20" {
		t.Errorf("escapeUserinfo = %s", got)
	}
}

func TestDetect(t *testing.T) {
	p := &Provider{}
	for in, want := range map[string]bool{
		"mysql://app:pw@db/shop":       true,
		"mariadb://app:pw@db/shop":     true,
		"app:pw@tcp(127.0.0.1:3306)/d": true,
		"postgres://app:pw@db/shop":    false,
		"whsec_abcdef":                 false,
		"":                             false,
	} {
		if got := p.Detect(secret.New(in)); got != want {
			t.Errorf("Detect(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestNewSettings(t *testing.T) {
	admin := "mysql://root:admin-secret@127.0.0.1:3306/"
	tests := []struct {
		name        string
		s           provider.Settings
		errKey      string
		alternating bool
	}{
		{name: "minimal", s: provider.Settings{"admin_url": admin}},
		{name: "dsn admin", s: provider.Settings{"admin_url": "root:admin-secret@tcp(127.0.0.1:3306)/"}},
		{name: "all", s: provider.Settings{"admin_url": admin, "host": "10.0.0.%", "users": []any{"a", "b"},
			"length": 24, "encoding": "alnum", "test": map[string]any{"read": "SELECT 1", "write": "INSERT INTO t VALUES (1)"}}, alternating: true},
		{name: "missing admin", s: provider.Settings{}, errKey: "admin_url"},
		{name: "bad admin", s: provider.Settings{"admin_url": "nonsense-admin-secret"}, errKey: "admin_url"},
		{name: "one user", s: provider.Settings{"admin_url": admin, "users": []any{"a"}}, errKey: "users"},
		{name: "same users", s: provider.Settings{"admin_url": admin, "users": []any{"a", "a"}}, errKey: "users"},
		{name: "short", s: provider.Settings{"admin_url": admin, "length": 8}, errKey: "length"},
		{name: "prefix", s: provider.Settings{"admin_url": admin, "prefix": "x"}, errKey: "prefix"},
		{name: "bad test", s: provider.Settings{"admin_url": admin, "test": map[string]any{"delete": "x"}}, errKey: "test.delete"},
		{name: "empty host", s: provider.Settings{"admin_url": admin, "host": ""}, errKey: "host"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.s)
			if tt.errKey == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				if _, alt := p.(*Alternating); alt != tt.alternating {
					t.Errorf("alternating = %v, want %v", alt, tt.alternating)
				}
				if _, ok := p.(provider.UsageReporter); ok != tt.alternating {
					t.Errorf("UsageReporter = %v, want %v", ok, tt.alternating)
				}
				return
			}
			var se *SettingsError
			if !errors.As(err, &se) || se.Key != tt.errKey || !errors.Is(err, provider.ErrSettings) {
				t.Fatalf("New: %v, want a settings error for %s", err, tt.errKey)
			}
			if strings.Contains(err.Error(), "admin-secret") {
				t.Errorf("error quotes the admin password: %v", err)
			}
		})
	}
}

func TestParseGlobalPriv(t *testing.T) {
	priv := `{"access":0,"plugin":"mysql_native_password","authentication_string":"*AAA","auth_or":[{},{"plugin":"mysql_native_password","authentication_string":"*BBB"}],"account_locked":true}`
	entries, locked, err := parseGlobalPriv(priv)
	if err != nil || !locked || len(entries) != 2 || entries[0].hash != "*AAA" || entries[1].hash != "*BBB" {
		t.Errorf("got %v %v %v", entries, locked, err)
	}
	entries, locked, err = parseGlobalPriv(`{"access":18446744073709551615}`)
	if err != nil || locked || len(entries) != 1 || entries[0].plugin != "mysql_native_password" || entries[0].hash != "" {
		t.Errorf("got %v %v %v", entries, locked, err)
	}
}

func TestParseVersion(t *testing.T) {
	for in, want := range map[string][3]int{"10.11.19-MariaDB-0+deb12u1": {10, 11, 19}, "8.0.36": {8, 0, 36}, "8.4.0-commercial": {8, 4, 0}, "x": {0, 0, 0}} {
		a, b, c := parseVersion(in)
		if [3]int{a, b, c} != want {
			t.Errorf("parseVersion(%q) = %d.%d.%d", in, a, b, c)
		}
	}
}

var parseErrors = []string{
	"not a mysql:// URL or a go-sql-driver DSN (user:password@tcp(host:port)/db)",
	"not a valid mysql:// URL (percent-encode special characters in the user and password)",
	"the DSN names no user (user:password@tcp(host:port)/db)",
	"the mysql:// URL has a '#' fragment (percent-encode '#' in the password as %23)",
	"the mysql:// URL has an invalid database name or parameter (parameters are go-sql-driver's)",
	"the mysql:// URL names no host",
	"the mysql:// URL names no user",
}

func FuzzParseValue(f *testing.F) {
	f.Add("mysql://app:pw@db:3306/shop?parseTime=true")
	f.Add("app:pw@tcp(db:3306)/shop")
	f.Add("mysql://a:%41@[::1]/")
	f.Fuzz(func(t *testing.T, s string) {
		v, err := parseValue(s)
		if err != nil {
			// Parse errors are fixed sentences: nothing of the input (which
			// holds a password) ever reaches them.
			if !slices.Contains(parseErrors, err.Error()) {
				t.Fatalf("unexpected error text: %v", err)
			}
			return
		}
		out, err := v.withLogin("u", "n3w-pw_")
		if err != nil {
			return
		}
		back, err := parseValue(out)
		if err != nil || back.user != "u" || back.password != "n3w-pw_" || back.cfg.DBName != v.cfg.DBName || back.cfg.Addr != v.cfg.Addr {
			t.Fatalf("withLogin does not round-trip: %v", err)
		}
	})
}

func TestPasswordHash(t *testing.T) {
	tests := []struct{ plugin, password, want string }{
		{"mysql_native_password", "a", "*667F407DE7C6AD07358FA38DAED7828A72014B4E"}, // MariaDB PASSWORD('a')
		{"mysql_native_password", "", ""},
		{"ed25519", "x", "Gv2JI8Env2fd5YGonZ082tX3UAW+yJYldOlj4R1bfK4"}, // CREATE USER … VIA ed25519 USING PASSWORD('x')
	}
	for _, tt := range tests {
		got, err := passwordHash(tt.plugin, tt.password)
		if err != nil || got != tt.want {
			t.Errorf("passwordHash(%s, %q) = %q, %v; want %q", tt.plugin, tt.password, got, err, tt.want)
		}
	}
	if _, err := passwordHash("unix_socket", "x"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("unix_socket: %v", err)
	}
}
