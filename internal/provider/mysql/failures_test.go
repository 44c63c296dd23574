package mysql

import (
	"errors"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/secret"
)

func TestFailuresChangeNothing(t *testing.T) {
	srv := startServer(t)
	ctx := t.Context()
	pw := nasty(t)
	user := srv.newUser(t, pw)
	cur := provider.Credential{Value: secret.New(srv.value(user, pw, true))}
	before := srv.priv(t, user)
	rootCfg, _ := mysql.ParseDSN(srv.rootDSN)

	limited := srv.newUser(t, "limited-admin-pw")
	srv.exec(t, "GRANT SELECT ON mysql.* TO ?@'%'", limited)

	missingPW := nasty(t)
	tests := []struct {
		name     string
		settings provider.Settings
		current  provider.Credential
		want     error
		secrets  []string
	}{
		{name: "wrong admin password",
			settings: provider.Settings{"admin_url": rootCfg.User + ":wrong-admin-pw@tcp(" + srv.addr + ")/"},
			current:  cur, want: ErrAccessDenied, secrets: []string{"wrong-admin-pw", pw}},
		{name: "unreachable",
			settings: provider.Settings{"admin_url": "mysql://root:unreachable-pw@127.0.0.1:1/?timeout=2s"},
			current:  cur, secrets: []string{"unreachable-pw", pw}},
		{name: "missing user",
			settings: provider.Settings{"admin_url": srv.rootDSN},
			current:  provider.Credential{Value: secret.New(srv.value("slk_missing_"+randomHex(t, 3), missingPW, true))},
			want:     ErrNoUser, secrets: []string{missingPW, rootCfg.Passwd}},
		{name: "wrong current password",
			settings: provider.Settings{"admin_url": srv.rootDSN},
			current:  provider.Credential{Value: secret.New(srv.value(user, "not-the-password", true))},
			want:     ErrMismatch, secrets: []string{"not-the-password", rootCfg.Passwd}},
		{name: "insufficient privileges",
			settings: provider.Settings{"admin_url": limited + ":limited-admin-pw@tcp(" + srv.addr + ")/"},
			current:  cur, want: ErrPrivileges, secrets: []string{"limited-admin-pw", pw}},
		{name: "missing standby",
			settings: provider.Settings{"admin_url": srv.rootDSN, "users": []any{user, "slk_nobody"}},
			current:  cur, want: ErrNoUser, secrets: []string{pw, rootCfg.Passwd}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.settings)
			if err != nil {
				t.Fatal(err)
			}
			_, err = p.Create(ctx, provider.CreateRequest{RotationID: "rot_fail", Name: "DATABASE_URL", Current: tt.current})
			if err == nil {
				t.Fatal("Create succeeded")
			}
			t.Logf("error: %v", err)
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error does not wrap %v", tt.want)
			}
			for _, s := range tt.secrets {
				if strings.Contains(err.Error(), s) || strings.Contains(err.Error(), escapeUserinfo(s)) {
					t.Errorf("error contains a password: %v", err)
				}
			}
			if after := srv.priv(t, user); after != before {
				t.Error("the account changed")
			}
			if !srv.works(ctx, t, cur.Value.Reveal()) {
				t.Error("the current credential stopped working")
			}
		})
	}
}

func TestTestProbes(t *testing.T) {
	srv := startServer(t)
	ctx := t.Context()
	pw := nasty(t)
	user := srv.newUser(t, pw)
	c := provider.Credential{Value: secret.New(srv.value(user, pw, false))}
	srv.exec(t, "CREATE TABLE IF NOT EXISTS "+testDB+".probe (v INT)")
	tests := []struct {
		name string
		test map[string]any
		ok   bool
	}{
		{"default", nil, true},
		{"custom", map[string]any{"read": "SELECT COUNT(*) FROM probe", "write": "INSERT INTO probe (v) VALUES (1)"}, true},
		{"read denied", map[string]any{"read": "SELECT * FROM mysql.global_priv"}, false},
		{"write denied", map[string]any{"write": "DELETE FROM probe"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := provider.Settings{"admin_url": srv.rootDSN}
			if tt.test != nil {
				s["test"] = tt.test
			}
			p, err := New(s)
			if err != nil {
				t.Fatal(err)
			}
			err = p.Test(ctx, c)
			if (err == nil) != tt.ok {
				t.Fatalf("Test: %v", err)
			}
			if err != nil && strings.Contains(err.Error(), pw) {
				t.Errorf("error contains the password: %v", err)
			}
		})
	}
	var n int
	if err := srv.root.QueryRow("SELECT COUNT(*) FROM " + testDB + ".probe").Scan(&n); err != nil || n != 0 {
		t.Errorf("the write probe was not rolled back: %d rows, %v", n, err)
	}
}

func TestRedactSyntaxError(t *testing.T) {
	srv := startServer(t)
	s, err := openSession(t.Context(), mustParse(t, srv.rootDSN))
	if err != nil {
		t.Fatal(err)
	}
	defer s.close()
	err = s.exec(t.Context(), "ALTER USER ?@? IDENTIFIED BY ? NONSENSE", []string{"pw-in-statement"}, "x", "%", "pw-in-statement")
	if err == nil || strings.Contains(err.Error(), "pw-in-statement") {
		t.Errorf("error: %v", err)
	}
}

// TestMinimalAdmin rotates with an admin that has only what the docs ask
// for: UPDATE (instead of CREATE USER) and SELECT on the mysql schema.
func TestMinimalAdmin(t *testing.T) {
	srv := startServer(t)
	admin := srv.newUser(t, "minimal-admin-pw")
	srv.exec(t, "GRANT SELECT, UPDATE ON mysql.* TO ?@'%'", admin)
	for _, users := range []bool{false, true} {
		pw := nasty(t)
		user := srv.newUser(t, pw)
		s := provider.Settings{"admin_url": admin + ":minimal-admin-pw@tcp(" + srv.addr + ")/"}
		if users {
			s["users"] = []any{user, srv.newUser(t, "x")}
		}
		p, err := New(s)
		if err != nil {
			t.Fatal(err)
		}
		cur := provider.Credential{Value: secret.New(srv.value(user, pw, true))}
		next := rotate(t, p, cur)
		if srv.works(t.Context(), t, cur.Value.Reveal()) || !srv.works(t.Context(), t, next.Value.Reveal()) {
			t.Errorf("users=%v: after the rotation the new password must work and the old must not", users)
		}
	}
}

func TestCurrentUserNotInUsers(t *testing.T) {
	srv := startServer(t)
	pw := nasty(t)
	user := srv.newUser(t, pw)
	p, err := New(provider.Settings{"admin_url": srv.rootDSN, "users": []any{"slk_a", "slk_b"}})
	if err != nil {
		t.Fatal(err)
	}
	cur := provider.Credential{Value: secret.New(srv.value(user, pw, true))}
	_, err = p.Create(t.Context(), provider.CreateRequest{RotationID: "rot_x", Name: "DATABASE_URL", Current: cur})
	if !errors.Is(err, provider.ErrSettings) || strings.Contains(err.Error(), pw) {
		t.Errorf("Create: %v, want ErrSettings", err)
	}
	if err := p.Revoke(t.Context(), cur); !errors.Is(err, provider.ErrSettings) {
		t.Errorf("Revoke: %v, want ErrSettings", err)
	}
	if !srv.works(t.Context(), t, cur.Value.Reveal()) {
		t.Error("the current credential stopped working")
	}
}
