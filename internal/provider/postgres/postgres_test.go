package postgres

import (
	"context"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/provider/providertest"
	"github.com/slickenv/slickenv/internal/secret"
)

func TestSuite(t *testing.T) {
	s := newServer(t)
	providertest.Run(t, func(t *testing.T) provider.Provider { return s.provider(t, s.settings()) }, harness{s})
}

func request(t *testing.T, current provider.Credential) provider.CreateRequest {
	return provider.CreateRequest{RotationID: "rot_test_" + randomSuffix(t), Env: "test", Name: "DATABASE_URL", Current: current}
}

// rotate runs one successful rotation of cur, checking the invariants on
// the way, and returns the new credential.
func rotate(t *testing.T, p *Provider, cur provider.Credential) provider.Credential {
	t.Helper()
	ctx := t.Context()
	if err := p.Check(ctx, cur); err != nil {
		t.Fatalf("Check: %v", err)
	}
	next, err := p.Create(ctx, request(t, cur))
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if !works(t, cur.Value) || !works(t, next.Value) {
		t.Fatal("after Create both credentials must log in")
	}
	if err := p.Test(ctx, next); err != nil {
		t.Fatalf("Test(new): %v", err)
	}
	if err := p.Revoke(ctx, cur); err != nil {
		t.Fatalf("Revoke(old): %v", err)
	}
	if works(t, cur.Value) {
		t.Fatal("the revoked credential still logs in")
	}
	if !works(t, next.Value) {
		t.Fatal("revoking the old credential broke the new one")
	}
	return next
}

func TestRotationsAlternate(t *testing.T) {
	s := newServer(t)
	for _, admin := range []string{"superuser", "createrole"} {
		t.Run(admin, func(t *testing.T) {
			settings := s.settings()
			if admin == "createrole" {
				role := "slickenv_admin_" + randomSuffix(t)
				s.exec(t, "CREATE ROLE "+role+" LOGIN CREATEROLE PASSWORD 'admin-pw'")
				t.Cleanup(func() { s.exec(t, "DROP ROLE "+role) })
				settings["admin_url"] = s.url(role, "admin-pw")
			}
			p := s.provider(t, settings)
			cur := provider.Credential{Value: secret.New(s.login(t, s.roles[0], "first-"+randomSuffix(t)))}
			want := []string{s.roles[1], s.roles[0], s.roles[1]}
			for i, role := range want {
				next := rotate(t, p, cur)
				if next.Meta[MetaRole] != role || next.Meta[MetaPreviousRole] != want[(i+1)%2] {
					t.Fatalf("rotation %d: meta %v, want role %s", i+1, next.Meta, role)
				}
				if _, err := time.Parse(time.RFC3339, next.Meta[MetaCreatedAt]); err != nil {
					t.Errorf("created_at: %v", err)
				}
				cs, _ := parseConnString(next.Value.Reveal())
				if cs.user != role {
					t.Fatalf("rotation %d: new value logs in as %s, want %s", i+1, cs.user, role)
				}
				if _, login := s.rolpassword(t, want[(i+1)%2]); login {
					t.Fatalf("rotation %d: the old role may still log in", i+1)
				}
				cur = next
			}
		})
	}
}

func TestCreateFailsBeforeChanging(t *testing.T) {
	s := newServer(t)
	checked := s.passwordsChecked(t)
	curPassword := "cur-" + randomSuffix(t) + "-secret"
	cur := provider.Credential{Value: secret.New(s.login(t, s.roles[0], curPassword))}
	weak := "slickenv_weak_" + randomSuffix(t)
	s.exec(t, "CREATE ROLE "+weak+" LOGIN PASSWORD 'weak-admin-pw'")
	t.Cleanup(func() { s.exec(t, "DROP ROLE "+weak) })
	outsider := "slickenv_outsider_" + randomSuffix(t)
	s.exec(t, "CREATE ROLE "+outsider+" NOLOGIN")
	t.Cleanup(func() { s.exec(t, "DROP ROLE "+outsider) })
	superCfg, _ := pgx.ParseConfig(s.superURL)

	tests := []struct {
		name     string
		settings func(provider.Settings)
		current  provider.Credential
		want     error // a sentinel, or nil for "any error"
		contains string
		secrets  []string

		needPasswords bool
	}{
		{name: "wrong admin password", needPasswords: true, want: ErrAuthentication, contains: "admin_url",
			settings: func(st provider.Settings) { st["admin_url"] = s.url(superCfg.User, "wrong-admin-pw-xyz") },
			secrets:  []string{"wrong-admin-pw-xyz"}},
		{name: "unreachable server", contains: "admin_url",
			settings: func(st provider.Settings) {
				st["admin_url"] = "postgres://admin:unreachable-pw-xyz@127.0.0.1:1/postgres?sslmode=disable&connect_timeout=2"
			},
			secrets: []string{"unreachable-pw-xyz"}},
		{name: "missing standby role", want: ErrMissingRole, contains: "standby role slickenv_nobody is missing: run `slickenv provider setup postgres`",
			settings: func(st provider.Settings) { st["roles"] = []any{s.roles[0], "slickenv_nobody"}; delete(st, "group") }},
		{name: "standby outside the group", want: ErrMissingRole, contains: "not a member of group",
			settings: func(st provider.Settings) { st["roles"] = []any{s.roles[0], outsider} }},
		{name: "admin without CREATEROLE", want: ErrPrivileges, contains: "CREATEROLE",
			settings: func(st provider.Settings) { st["admin_url"] = s.url(weak, "weak-admin-pw") }},
		{name: "current role not managed", want: ErrUnmanagedRole,
			current: provider.Credential{Value: secret.New(s.url(superCfg.User, "whatever-pw-xyz"))},
			secrets: []string{"whatever-pw-xyz"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.needPasswords && !checked {
				s.requirePasswords(t)
			}
			settings := s.settings()
			if tt.settings != nil {
				tt.settings(settings)
			}
			current := cur
			if !tt.current.Value.IsEmpty() {
				current = tt.current
			}
			before0, login0 := s.rolpassword(t, s.roles[0])
			before1, login1 := s.rolpassword(t, s.roles[1])
			p := s.provider(t, settings)
			checkErr := p.Check(t.Context(), current)
			_, err := p.Create(t.Context(), request(t, current))
			if err == nil {
				t.Fatal("Create succeeded")
			}
			if checkErr == nil || checkErr.Error() != err.Error() {
				t.Errorf("Check = %v, Create = %v: want the same error", checkErr, err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %q does not wrap %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Errorf("error %q does not say %q", err, tt.contains)
			}
			for _, sec := range append(tt.secrets, curPassword, "weak-admin-pw", superCfg.Password) {
				if sec != "" && strings.Contains(err.Error(), sec) {
					t.Errorf("error %q contains a password", err)
				}
			}
			if a, l := s.rolpassword(t, s.roles[0]); a != before0 || l != login0 {
				t.Error("Create changed the current role")
			}
			if a, l := s.rolpassword(t, s.roles[1]); a != before1 || l != login1 {
				t.Error("Create changed the standby role")
			}
			if !works(t, cur.Value) {
				t.Error("the current credential stopped working")
			}
			t.Logf("error: %v", err)
		})
	}
}

func TestRevokeLeavesNewerCredential(t *testing.T) {
	s := newServer(t)
	s.requirePasswords(t)
	p := s.provider(t, s.settings())
	cur := provider.Credential{Value: secret.New(s.login(t, s.roles[0], "cur-"+randomSuffix(t)))}
	req := request(t, cur)
	first, err := p.Create(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	second, err := p.Create(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	if works(t, first.Value) || !works(t, second.Value) {
		t.Fatal("a repeated Create must replace the standby's password")
	}
	// first's role now holds second's password: revoking first must not
	// touch it.
	if err := p.Revoke(t.Context(), first); err != nil {
		t.Fatalf("Revoke(first): %v", err)
	}
	if !works(t, second.Value) {
		t.Fatal("revoking a stale credential disabled the role's newer one")
	}
	if n, err := p.Terminate(t.Context(), first); err != nil || n != 0 {
		t.Fatalf("Terminate(stale) = %d, %v; want 0, nil", n, err)
	}
}

func TestRevokeRefusesUnmanagedRole(t *testing.T) {
	s := newServer(t)
	p := s.provider(t, s.settings())
	cfg, _ := pgx.ParseConfig(s.superURL)
	for _, f := range []func(context.Context, provider.Credential) error{
		p.Revoke,
		func(ctx context.Context, c provider.Credential) error { _, err := p.Terminate(ctx, c); return err },
	} {
		err := f(t.Context(), provider.Credential{Value: secret.New(s.superDBURL(t))})
		if !errors.Is(err, ErrUnmanagedRole) {
			t.Errorf("got %v, want ErrUnmanagedRole", err)
		}
		if cfg.Password != "" && strings.Contains(err.Error(), cfg.Password) {
			t.Errorf("error %q contains the password", err)
		}
	}
}

func TestRevokeMissingRole(t *testing.T) {
	s := newServer(t)
	p := s.provider(t, s.settings())
	c := provider.Credential{Value: secret.New(s.login(t, s.roles[1], "pw-"+randomSuffix(t)))}
	s.exec(t, "DROP ROLE "+pgx.Identifier{s.roles[1]}.Sanitize())
	for range 2 {
		if err := p.Revoke(t.Context(), c); err != nil {
			t.Fatalf("Revoke of a dropped role: %v", err)
		}
	}
}

func TestInUseAndTerminate(t *testing.T) {
	s := newServer(t)
	p := s.provider(t, s.settings())
	cur := provider.Credential{Value: secret.New(s.login(t, s.roles[0], "cur-"+randomSuffix(t)))}
	if n, err := p.InUse(t.Context(), cur); err != nil || n != 0 {
		t.Fatalf("InUse before any session = %d, %v", n, err)
	}
	var conns []*pgx.Conn
	for range 2 {
		conn, err := connect(t.Context(), cur.Value)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(context.Background()) })
		conns = append(conns, conn)
	}
	if n, err := p.InUse(t.Context(), cur); err != nil || n != 2 {
		t.Fatalf("InUse with two sessions = %d, %v; want 2", n, err)
	}
	next, err := p.Create(t.Context(), request(t, cur))
	if err != nil {
		t.Fatal(err)
	}
	if n, err := p.InUse(t.Context(), next); err != nil || n != 0 {
		t.Fatalf("InUse(new) = %d, %v; want 0", n, err)
	}
	n, err := p.Terminate(t.Context(), cur)
	if err != nil || n != 2 {
		t.Fatalf("Terminate = %d, %v; want 2", n, err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := p.InUse(t.Context(), cur)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("InUse after Terminate = %d", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := conns[0].Ping(t.Context()); err == nil {
		t.Error("a terminated session still answers")
	}
	if err := p.Revoke(t.Context(), cur); err != nil {
		t.Fatal(err)
	}
	if n, err := p.Terminate(t.Context(), cur); err != nil || n != 0 {
		t.Fatalf("Terminate after Revoke = %d, %v; want 0, nil", n, err)
	}
}

// nastyPasswords are passwords full of what URLs and key=value strings
// treat specially.
var nastyPasswords = []string{
	`p@ss:w/rd?#%25%`,
	`a'b"c\d e\\'f`,
	`@:/?#[]!$&'()*+,;=%20`,
	` lead and trail `,
	`ünï©ødé`,
}

func TestFormatsPreservedOnServer(t *testing.T) {
	s := newServer(t)
	p := s.provider(t, s.settings())
	hostPort := s.host + ":" + itoa(int(s.port))
	for i, pw := range nastyPasswords {
		for _, form := range []string{"url", "url-params", "dsn", "dsn-quoted"} {
			t.Run(form+"/"+itoa(i), func(t *testing.T) {
				s.login(t, s.roles[0], pw)
				s.exec(t, "ALTER ROLE "+pgx.Identifier{s.roles[1]}.Sanitize()+" NOLOGIN")
				var value string
				switch form {
				case "url":
					value = s.url(s.roles[0], pw)
				case "url-params":
					value = "postgresql://" + hostPort + "/" + s.db + "?application_name=shop&user=" + escapeURL(s.roles[0]) +
						"&password=" + escapeURL(pw) + "&sslmode=disable"
				case "dsn":
					value = "host=" + s.host + " port=" + itoa(int(s.port)) + " dbname=" + s.db + " user=" + s.roles[0] +
						" password=" + quoteDSN(pw) + " sslmode=disable application_name=shop"
				case "dsn-quoted":
					value = "password = " + quoteDSN(pw) + "\thost='" + s.host + "' port=" + itoa(int(s.port)) + " dbname=" + s.db +
						" user = '" + s.roles[0] + "' sslmode=disable"
				}
				cur := provider.Credential{Value: secret.New(value)}
				if !works(t, cur.Value) {
					t.Fatal("the test's own current value does not log in")
				}
				next, err := p.Create(t.Context(), request(t, cur))
				if err != nil {
					t.Fatal(err)
				}
				if !works(t, next.Value) {
					t.Fatal("the new value does not log in")
				}
				if err := p.Test(t.Context(), next); err != nil {
					t.Fatal(err)
				}
				got := next.Value.Reveal()
				if isURL(got) != isURL(value) {
					t.Fatal("the format changed")
				}
				if diff := otherParts(t, value, got); diff != "" {
					t.Errorf("only user and password may change: %s", diff)
				}
				if err := p.Revoke(t.Context(), cur); err != nil {
					t.Fatal(err)
				}
				if works(t, cur.Value) {
					t.Fatal("revoked credential logs in")
				}
			})
		}
	}
}

// otherParts compares everything but user and password in two connection
// strings and describes a difference ("" when none).
func otherParts(t *testing.T, a, b string) string {
	t.Helper()
	ca, err1 := parseConnString(a)
	cb, err2 := parseConnString(b)
	if err1 != nil || err2 != nil {
		return "unparsable"
	}
	if ca.isURL != cb.isURL {
		return "format"
	}
	if ca.isURL {
		// The URL is rebuilt from the same pieces: compare with the
		// credentials blanked.
		if ca.withCredentials("u", "p") != cb.withCredentials("u", "p") {
			return "URL parts"
		}
		return ""
	}
	if len(ca.pairs) != len(cb.pairs) {
		return "number of keys"
	}
	for i := range ca.pairs {
		pa, pb := ca.pairs[i], cb.pairs[i]
		if pa.key != pb.key || (pa.key != "user" && pa.key != "password" && pa.value != pb.value) {
			return "key " + pa.key
		}
	}
	if ca.raw[:ca.pairs[0].start] != cb.raw[:cb.pairs[0].start] {
		return "layout"
	}
	return ""
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestTestProbes(t *testing.T) {
	s := newServer(t)
	cur := provider.Credential{Value: secret.New(s.login(t, s.roles[0], "cur-"+randomSuffix(t)))}
	settings := s.settings()
	settings["test"] = map[string]any{"read": "SELECT count(*) FROM items", "write": "INSERT INTO items VALUES (1)"}
	p := s.provider(t, settings)
	if err := p.Test(t.Context(), cur); err != nil {
		t.Fatalf("Test: %v", err)
	}
	conn, err := connect(t.Context(), cur.Value)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM items").Scan(&n); err != nil || n != 0 {
		t.Fatalf("items has %d rows (%v): the write probe must roll back", n, err)
	}
	// Without INSERT the write probe fails, naming the probe.
	s.execDB(t, "REVOKE INSERT ON items FROM "+pgx.Identifier{s.group}.Sanitize())
	err = p.Test(t.Context(), cur)
	if err == nil || !strings.Contains(err.Error(), "write probe") || !errors.Is(err, ErrPrivileges) {
		t.Fatalf("Test without INSERT = %v", err)
	}
	// The default probes need no table.
	if err := s.provider(t, s.settings()).Test(t.Context(), cur); err != nil {
		t.Fatalf("default probes: %v", err)
	}
}

func TestSetupIdempotent(t *testing.T) {
	s := newServer(t) // ran Setup once
	res, err := Setup(t.Context(), secret.New(s.superURL), s.group, s.roles)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Created) != 0 || len(res.Granted) != 0 {
		t.Fatalf("second Setup changed things: %+v", res)
	}
	// A role that lost its membership gets it back.
	s.exec(t, "REVOKE "+pgx.Identifier{s.group}.Sanitize()+" FROM "+pgx.Identifier{s.roles[1]}.Sanitize())
	res, err = Setup(t.Context(), secret.New(s.superURL), s.group, s.roles)
	if err != nil || len(res.Granted) != 1 || res.Granted[0] != s.roles[1] {
		t.Fatalf("Setup = %+v, %v", res, err)
	}
	for _, r := range s.roles {
		if _, login := s.rolpassword(t, r); login {
			t.Errorf("Setup made %s a login role", r)
		}
	}
	cfg, _ := pgx.ParseConfig(s.superURL)
	if _, err := Setup(t.Context(), secret.New(s.superURL), s.group, [2]string{s.roles[0], cfg.User}); !errors.Is(err, ErrUnmanagedRole) {
		t.Fatalf("Setup with a superuser role = %v", err)
	}
}

func TestScramVerifierMatchesServer(t *testing.T) {
	s := newServer(t)
	const pw = "Zx9-_~abc.DEF"
	s.login(t, s.roles[0], pw)
	stored, _ := s.rolpassword(t, s.roles[0])
	// SCRAM-SHA-256$4096:<salt>$<stored>:<server>
	rest, ok := strings.CutPrefix(stored, "SCRAM-SHA-256$")
	if !ok {
		t.Skipf("the server stores %.6s…, not SCRAM", stored)
	}
	iterSalt, _, _ := strings.Cut(rest, "$")
	iter, salt64, _ := strings.Cut(iterSalt, ":")
	salt, err := base64.StdEncoding.DecodeString(salt64)
	if err != nil {
		t.Fatal(err)
	}
	iterations, err := strconv.Atoi(iter)
	if err != nil {
		t.Fatal(err)
	}
	got, err := scramVerifierWithSalt(pw, salt, iterations)
	if err != nil {
		t.Fatal(err)
	}
	if got != stored {
		t.Fatalf("verifier %s, server stored %s", got, stored)
	}
}
