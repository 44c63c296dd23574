package mysql

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/provider/providertest"
	"github.com/slickenv/slickenv/internal/secret"
)

// dualHarness: one fresh account per subtest, with a nasty password.
type dualHarness struct {
	srv *server
	url bool
}

func (h dualHarness) Current(ctx context.Context, t *testing.T) provider.Credential {
	pw := nasty(t)
	user := h.srv.newUser(t, pw)
	return provider.Credential{Value: secret.New(h.srv.value(user, pw, h.url))}
}

func (h dualHarness) Works(ctx context.Context, t *testing.T, c provider.Credential) bool {
	return h.srv.works(ctx, t, c.Value.Reveal())
}

func TestSuiteDual(t *testing.T) {
	srv := startServer(t)
	for _, url := range []bool{true, false} {
		name := map[bool]string{true: "URL", false: "DSN"}[url]
		t.Run(name, func(t *testing.T) {
			providertest.Run(t, func(t *testing.T) provider.Provider {
				admin := srv.rootDSN
				if url {
					admin = srv.adminURL(t)
				}
				p, err := New(provider.Settings{"admin_url": admin})
				if err != nil {
					t.Fatal(err)
				}
				return p
			}, dualHarness{srv, url})
		})
	}
}

// altHarness: a fresh pair of accounts per subtest; newProvider makes
// them, Current returns the first.
type altHarness struct {
	srv   *server
	mu    sync.Mutex
	pairs map[string][2]string // subtest name → users
	pw    map[string]string    // subtest name → password of the first
}

func (h *altHarness) newProvider(t *testing.T) provider.Provider {
	pw := nasty(t)
	a := h.srv.newUser(t, pw)
	b := h.srv.newUser(t, randomHex(t, 16))
	h.srv.exec(t, "ALTER USER ?@'%' ACCOUNT LOCK", b)
	h.mu.Lock()
	h.pairs[t.Name()], h.pw[t.Name()] = [2]string{a, b}, pw
	h.mu.Unlock()
	p, err := New(provider.Settings{"admin_url": h.srv.rootDSN, "users": []any{a, b}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (h *altHarness) Current(ctx context.Context, t *testing.T) provider.Credential {
	h.mu.Lock()
	defer h.mu.Unlock()
	return provider.Credential{Value: secret.New(h.srv.value(h.pairs[t.Name()][0], h.pw[t.Name()], true))}
}

func (h *altHarness) Works(ctx context.Context, t *testing.T, c provider.Credential) bool {
	return h.srv.works(ctx, t, c.Value.Reveal())
}

func TestSuiteAlternating(t *testing.T) {
	h := &altHarness{srv: startServer(t), pairs: map[string][2]string{}, pw: map[string]string{}}
	providertest.Run(t, h.newProvider, h)
}

// rotate runs one successful rotation the way the engine does and returns
// the new credential.
func rotate(t *testing.T, p provider.Provider, cur provider.Credential) provider.Credential {
	t.Helper()
	id := "rot_" + randomHex(t, 4)
	ctx := provider.WithCall(t.Context(), provider.Call{RotationID: id, Env: "test", Name: "DATABASE_URL"})
	c, err := p.Create(ctx, provider.CreateRequest{RotationID: id, Env: "test", Name: "DATABASE_URL", Current: cur})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := p.Test(ctx, c); err != nil {
		t.Fatalf("Test: %v", err)
	}
	if err := p.Revoke(ctx, cur); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	return c
}

func TestRepeatedRotations(t *testing.T) {
	srv := startServer(t)
	for _, url := range []bool{true, false} {
		t.Run(map[bool]string{true: "dual URL", false: "dual DSN"}[url], func(t *testing.T) {
			pw := nasty(t)
			user := srv.newUser(t, pw)
			p, err := New(provider.Settings{"admin_url": srv.rootDSN, "encoding": "alnum", "length": 30})
			if err != nil {
				t.Fatal(err)
			}
			cur := provider.Credential{Value: secret.New(srv.value(user, pw, url))}
			var seen []provider.Credential
			for i := range 3 {
				next := rotate(t, p, cur)
				nv, _ := parseValue(next.Value.Reveal())
				if nv.user != user || len(nv.password) != 30 {
					t.Errorf("rotation %d: user %q, password of %d characters", i+1, nv.user, len(nv.password))
				}
				if want, _ := parseValue(cur.Value.Reveal()); (want.tail != nv.tail) || want.head != nv.head {
					t.Errorf("rotation %d changed more than the user information", i+1)
				}
				if !srv.works(t.Context(), t, next.Value.Reveal()) {
					t.Fatalf("rotation %d: the new credential does not work", i+1)
				}
				seen = append(seen, cur)
				for j, old := range seen {
					if srv.works(t.Context(), t, old.Value.Reveal()) {
						t.Errorf("rotation %d: credential %d still works after revoke", i+1, j)
					}
				}
				cur = next
			}
		})
	}
	t.Run("alternating", func(t *testing.T) {
		pw := nasty(t)
		a := srv.newUser(t, pw)
		b := srv.newUser(t, randomHex(t, 16))
		p, err := New(provider.Settings{"admin_url": srv.adminURL(t), "users": []any{a, b}})
		if err != nil {
			t.Fatal(err)
		}
		cur := provider.Credential{Value: secret.New(srv.value(a, pw, false))}
		for i, want := range []string{b, a, b} {
			next := rotate(t, p, cur)
			nv, _ := parseValue(next.Value.Reveal())
			if nv.user != want || next.Meta[metaUser] != want {
				t.Errorf("rotation %d: user %q, want %q", i+1, nv.user, want)
			}
			if srv.works(t.Context(), t, cur.Value.Reveal()) {
				t.Errorf("rotation %d: the previous credential still works", i+1)
			}
			old, _ := parseValue(cur.Value.Reveal())
			if !strings.Contains(srv.priv(t, old.user), `"account_locked":true`) {
				t.Errorf("rotation %d: the previous account is not locked", i+1)
			}
			cur = next
		}
	})
}

func TestRevokeNeverLocksOut(t *testing.T) {
	srv := startServer(t)
	ctx := t.Context()
	pw := nasty(t)
	user := srv.newUser(t, pw)
	p, err := New(provider.Settings{"admin_url": srv.rootDSN})
	if err != nil {
		t.Fatal(err)
	}
	cur := provider.Credential{Value: secret.New(srv.value(user, pw, true))}
	err = p.Revoke(ctx, cur)
	if !errors.Is(err, ErrLockout) {
		t.Fatalf("Revoke of the only password: %v, want ErrLockout", err)
	}
	if !srv.works(ctx, t, cur.Value.Reveal()) {
		t.Fatal("the only password stopped working")
	}

	// Alternating: the other account is locked, so locking this one would
	// leave none.
	a := srv.newUser(t, pw)
	b := srv.newUser(t, pw)
	srv.exec(t, "ALTER USER ?@'%' ACCOUNT LOCK", b)
	alt, err := New(provider.Settings{"admin_url": srv.rootDSN, "users": []any{a, b}})
	if err != nil {
		t.Fatal(err)
	}
	curA := provider.Credential{Value: secret.New(srv.value(a, pw, true))}
	if err := alt.Revoke(ctx, curA); !errors.Is(err, ErrLockout) {
		t.Fatalf("Revoke with the other account locked: %v, want ErrLockout", err)
	}
	if !srv.works(ctx, t, curA.Value.Reveal()) {
		t.Fatal("the account was locked")
	}
}

func TestInUseTerminate(t *testing.T) {
	srv := startServer(t)
	ctx := t.Context()
	pw := nasty(t)
	a := srv.newUser(t, pw)
	b := srv.newUser(t, randomHex(t, 16))
	p, err := New(provider.Settings{"admin_url": srv.rootDSN, "users": []any{a, b}})
	if err != nil {
		t.Fatal(err)
	}
	alt := p.(*Alternating)
	cur := provider.Credential{Value: secret.New(srv.value(a, pw, true))}
	if n, err := alt.InUse(ctx, cur); err != nil || n != 0 {
		t.Fatalf("InUse with no session = %d, %v", n, err)
	}
	v, _ := parseValue(cur.Value.Reveal())
	var conns []*sql.Conn
	for range 2 {
		db, conn, err := dial(ctx, v)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close(); db.Close() })
		conns = append(conns, conn)
	}
	newCred, err := p.Create(ctx, provider.CreateRequest{RotationID: "rot_inuse", Name: "DATABASE_URL", Current: cur})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := alt.InUse(ctx, cur); err != nil || n != 2 {
		t.Fatalf("InUse = %d, %v; want 2", n, err)
	}
	if n, err := alt.InUse(ctx, newCred); err != nil || n != 0 {
		t.Fatalf("InUse(new) = %d, %v; want 0 (sessions are counted per account)", n, err)
	}
	if n, err := alt.Terminate(ctx, cur); err != nil || n != 2 {
		t.Fatalf("Terminate = %d, %v; want 2", n, err)
	}
	if n, err := alt.InUse(ctx, cur); err != nil || n != 0 {
		t.Fatalf("InUse after Terminate = %d, %v", n, err)
	}
	if err := conns[0].PingContext(ctx); err == nil {
		t.Error("a terminated session still answers")
	}

	// An admin without PROCESS cannot see other sessions: an error, not 0.
	weak := srv.newUser(t, "weak-admin-pw")
	weakAdmin := weak + ":weak-admin-pw@tcp(" + srv.addr + ")/"
	wp, err := New(provider.Settings{"admin_url": weakAdmin, "users": []any{a, b}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wp.(*Alternating).InUse(ctx, cur); !errors.Is(err, ErrPrivileges) {
		t.Errorf("InUse without PROCESS: %v, want ErrPrivileges", err)
	}
}

// TestPlugins rotates accounts of each password plugin, and refuses one
// that logs in without a password.
func TestPlugins(t *testing.T) {
	srv := startServer(t)
	ctx := t.Context()
	var loaded int
	if err := srv.root.QueryRow("SELECT COUNT(*) FROM information_schema.PLUGINS WHERE PLUGIN_NAME = 'ed25519'").Scan(&loaded); err != nil {
		t.Fatal(err)
	}
	if loaded == 0 {
		srv.exec(t, "INSTALL SONAME 'auth_ed25519'")
	}
	p, err := New(provider.Settings{"admin_url": srv.rootDSN})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("ed25519 alternating", func(t *testing.T) {
		pw := nasty(t)
		a := srv.newUser(t, pw)
		b := srv.newUser(t, pw)
		for _, u := range []string{a, b} {
			srv.exec(t, "ALTER USER ?@'%' IDENTIFIED VIA ed25519 USING PASSWORD(?)", u, pw)
		}
		alt, err := New(provider.Settings{"admin_url": srv.rootDSN, "users": []any{a, b}})
		if err != nil {
			t.Fatal(err)
		}
		cur := provider.Credential{Value: secret.New(srv.value(a, pw, true))}
		if !srv.works(ctx, t, cur.Value.Reveal()) {
			t.Fatal("cannot log in with ed25519")
		}
		for range 2 {
			next := rotate(t, alt, cur)
			if !srv.works(ctx, t, next.Value.Reveal()) || srv.works(ctx, t, cur.Value.Reveal()) {
				t.Error("after the rotation the new password must work and the old must not")
			}
			cur = next
		}
		for _, u := range []string{a, b} {
			if !strings.Contains(srv.priv(t, u), `"plugin":"ed25519"`) {
				t.Errorf("%s no longer uses ed25519", u)
			}
		}
	})
	t.Run("ed25519 dual", func(t *testing.T) {
		pw := nasty(t)
		user := srv.newUser(t, pw)
		srv.exec(t, "ALTER USER ?@'%' IDENTIFIED VIA ed25519 USING PASSWORD(?)", user, pw)
		before := srv.priv(t, user)
		_, err := p.Create(ctx, provider.CreateRequest{RotationID: "rot_ed", Name: "DATABASE_URL",
			Current: provider.Credential{Value: secret.New(srv.value(user, pw, true))}})
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "users") {
			t.Errorf("Create: %v, want ErrUnsupported suggesting users", err)
		}
		if srv.priv(t, user) != before {
			t.Error("the account changed")
		}
	})
	t.Run("unix_socket", func(t *testing.T) {
		user := srv.newUser(t, "x")
		srv.exec(t, "ALTER USER ?@'%' IDENTIFIED VIA unix_socket", user)
		before := srv.priv(t, user)
		_, err := p.Create(ctx, provider.CreateRequest{RotationID: "rot_unix", Name: "DATABASE_URL",
			Current: provider.Credential{Value: secret.New(srv.value(user, "x", true))}})
		if !errors.Is(err, ErrUnsupported) {
			t.Errorf("Create: %v, want ErrUnsupported", err)
		}
		if srv.priv(t, user) != before {
			t.Error("the account changed")
		}
	})
}

// TestLiveClient keeps a client connecting with whatever the environment
// holds through three rotations: it never fails.
func TestLiveClient(t *testing.T) {
	srv := startServer(t)
	for _, mode := range []string{"dual", "alternating"} {
		t.Run(mode, func(t *testing.T) {
			pw := nasty(t)
			user := srv.newUser(t, pw)
			s := provider.Settings{"admin_url": srv.rootDSN}
			if mode == "alternating" {
				s["users"] = []any{user, srv.newUser(t, randomHex(t, 16))}
			}
			p, err := New(s)
			if err != nil {
				t.Fatal(err)
			}
			var env atomic.Pointer[string]
			first := srv.value(user, pw, true)
			env.Store(&first)
			ctx, stop := context.WithCancel(t.Context())
			var wg sync.WaitGroup
			var logins, failures atomic.Int64
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					v, err := parseValue(*env.Load())
					if err != nil {
						failures.Add(1)
						continue
					}
					db, conn, err := dial(ctx, v)
					if err != nil {
						if ctx.Err() == nil {
							failures.Add(1)
						}
						continue
					}
					logins.Add(1)
					conn.Close()
					db.Close()
				}
			}()
			cur := provider.Credential{Value: secret.New(first)}
			for i := range 3 {
				id := "rot_live_" + randomHex(t, 3)
				cctx := provider.WithCall(t.Context(), provider.Call{RotationID: id, Name: "DATABASE_URL"})
				next, err := p.Create(cctx, provider.CreateRequest{RotationID: id, Name: "DATABASE_URL", Current: cur})
				if err != nil {
					t.Fatalf("rotation %d: Create: %v", i+1, err)
				}
				time.Sleep(50 * time.Millisecond)
				v := next.Value.Reveal()
				env.Store(&v)
				time.Sleep(50 * time.Millisecond)
				if err := p.Revoke(cctx, cur); err != nil {
					t.Fatalf("rotation %d: Revoke: %v", i+1, err)
				}
				time.Sleep(50 * time.Millisecond)
				cur = next
			}
			stop()
			wg.Wait()
			if failures.Load() != 0 || logins.Load() < 10 {
				t.Errorf("%d logins, %d failures", logins.Load(), failures.Load())
			}
			t.Logf("%d logins, no failure", logins.Load())
		})
	}
}
