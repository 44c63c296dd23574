package postgres

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestWithCredentials(t *testing.T) {
	const pw = `n3w@:/?#%'"\ pw`
	tests := []struct {
		name, in, want string
		user, pass     string // what the input holds
	}{
		{name: "url",
			in:   "postgres://app_blue:old@db.example.com:5432/shop?sslmode=require&application_name=web",
			want: "postgres://app_green:n3w%40%3A%2F%3F%23%25%27%22%5C%20pw@db.example.com:5432/shop?sslmode=require&application_name=web",
			user: "app_blue", pass: "old"},
		{name: "postgresql scheme, encoded old password",
			in:   "postgresql://app_blue:o%40ld%2F@[::1]:6432/shop",
			want: "postgresql://app_green:n3w%40%3A%2F%3F%23%25%27%22%5C%20pw@[::1]:6432/shop",
			user: "app_blue", pass: "o@ld/"},
		{name: "url without password",
			in:   "postgres://app_blue@h/db",
			want: "postgres://app_green:n3w%40%3A%2F%3F%23%25%27%22%5C%20pw@h/db",
			user: "app_blue"},
		{name: "url without userinfo",
			in:   "postgres://h1:5432,h2:5433/db?target_session_attrs=read-write",
			want: "postgres://app_green:n3w%40%3A%2F%3F%23%25%27%22%5C%20pw@h1:5432,h2:5433/db?target_session_attrs=read-write"},
		{name: "url with user and password in the query",
			in:   "postgres:///shop?host=%2Frun%2Fpostgresql&user=app_blue&password=old%21",
			want: "postgres:///shop?host=%2Frun%2Fpostgresql&user=app_green&password=n3w%40%3A%2F%3F%23%25%27%22%5C%20pw",
			user: "app_blue", pass: "old!"},
		{name: "query overrides userinfo",
			in:   "postgres://x:y@h/db?user=app_blue",
			want: "postgres://app_green:n3w%40%3A%2F%3F%23%25%27%22%5C%20pw@h/db?user=app_green",
			user: "app_blue", pass: "y"},
		{name: "dsn",
			in:   "host=db port=5432 dbname=shop user=app_blue password=old sslmode=require",
			want: `host=db port=5432 dbname=shop user=app_green password='n3w@:/?#%\'"\\ pw' sslmode=require`,
			user: "app_blue", pass: "old"},
		{name: "dsn quoted, spaced, tabs",
			in:   "password = 'o\\'l d'\thost='db' user = 'app_blue'  ",
			want: "password = 'n3w@:/?#%\\'\"\\\\ pw'\thost='db' user = app_green  ",
			user: "app_blue", pass: "o'l d"},
		{name: "dsn without user and password",
			in:   "host=db dbname=shop ",
			want: `host=db dbname=shop user=app_green password='n3w@:/?#%\'"\\ pw'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs, err := parseConnString(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if cs.user != tt.user || cs.pass != tt.pass {
				t.Errorf("parsed user %q password %q, want %q %q", cs.user, cs.pass, tt.user, tt.pass)
			}
			got := cs.withCredentials("app_green", pw)
			if got != tt.want {
				t.Errorf("withCredentials:\n got %s\nwant %s", got, tt.want)
			}
			again, err := parseConnString(got)
			if err != nil || again.user != "app_green" || again.pass != pw {
				t.Errorf("reparse failed (%v) or gave other credentials", err)
			}
		})
	}
}

func TestParseConnStringRejects(t *testing.T) {
	for _, in := range []string{"", "   ", "just words", "host=", "host='unterminated", "=x", "postgres://u:%zz@h/db"} {
		if cs, err := parseConnString(in); err == nil && !(cs.isURL) {
			// "host=" is a valid empty value in libpq; the rest are not.
			if in == "host=" {
				continue
			}
			t.Errorf("parseConnString(%q) succeeded", in)
		}
	}
	_, err := parseConnString("postgres://u:s3cr3t%zz@h/db")
	if err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("error %v", err)
	}
}

// pgxAgrees checks that pgx reads the user and password withCredentials
// wrote, and everything else as in the original.
func pgxAgrees(t *testing.T, in, user, pass string) {
	t.Helper()
	cs, err := parseConnString(in)
	if err != nil {
		return
	}
	before, err := pgx.ParseConfig(in)
	if err != nil {
		return // not something applications could use either
	}
	out := cs.withCredentials(user, pass)
	after, err := pgx.ParseConfig(out)
	if err != nil {
		t.Fatalf("pgx cannot parse the rewritten string: %v", scrub(err, pass))
	}
	if after.User != user || after.Password != pass {
		t.Fatalf("pgx reads user %q password %q, want %q %q", after.User, after.Password, user, pass)
	}
	if after.Host != before.Host || after.Port != before.Port || after.Database != before.Database {
		t.Fatalf("pgx reads %s:%d/%s, was %s:%d/%s", after.Host, after.Port, after.Database, before.Host, before.Port, before.Database)
	}
	for k, v := range before.RuntimeParams {
		if after.RuntimeParams[k] != v {
			t.Fatalf("runtime param %s changed", k)
		}
	}
}

func TestPgxAgrees(t *testing.T) {
	for _, pw := range append(nastyPasswords, "plain", `\`, `'`, `%`, `+ +`) {
		for _, in := range []string{
			"postgres://app_blue:old@db:5432/shop?sslmode=disable&application_name=web",
			"postgresql://db/shop?user=app_blue&password=old&sslmode=disable",
			"host=db port=5432 dbname=shop user=app_blue password=old sslmode=disable application_name='my app'",
			"host=db dbname=shop sslmode=disable",
		} {
			pgxAgrees(t, in, "app_green", pw)
		}
	}
}

func FuzzConnString(f *testing.F) {
	f.Add("postgres://app_blue:old@db:5432/shop?sslmode=disable", "p@ss")
	f.Add("host=db user=app_blue password='a\\'b' sslmode=disable", `x'y\z`)
	f.Add("postgres:///db?host=/tmp&user=u&password=p#f", "%%")
	f.Fuzz(func(t *testing.T, in, pass string) {
		cs, err := parseConnString(in)
		if err != nil {
			return
		}
		out := cs.withCredentials("app_green", pass)
		again, err := parseConnString(out)
		if err != nil {
			t.Fatalf("cannot reparse %q (from %q)", out, in)
		}
		if again.user != "app_green" || again.pass != pass {
			t.Fatalf("reparsed %q %q from %q", again.user, again.pass, out)
		}
		if strings.ContainsRune(pass, 0) {
			return // pgx rejects NUL, as libpq does
		}
		pgxAgrees(t, in, "app_green", pass)
	})
}

func TestEscapes(t *testing.T) {
	if got := escapeURL("aZ09-._~ @:/?#%+"); got != "aZ09-._~%20%40%3A%2F%3F%23%25%2B" {
		t.Errorf("escapeURL = %s", got)
	}
	for in, want := range map[string]string{"abc": "abc", "": "''", "a b": "'a b'", `a'b\c`: `'a\'b\\c'`} {
		if got := quoteDSN(in); got != want {
			t.Errorf("quoteDSN(%q) = %s, want %s", in, got, want)
		}
	}
	if got := quoteLiteral(`a'b\c`); got != `E'a''b\\c'` {
		t.Errorf("quoteLiteral = %s", got)
	}
}
