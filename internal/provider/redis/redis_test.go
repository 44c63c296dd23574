package redis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/provider/providertest"
	"github.com/slickenv/slickenv/internal/secret"
	"github.com/slickenv/slickenv/internal/testenv"
)

// server is the test Redis started by scripts/services.
type server struct {
	adminURL string
	host     string // host:port
}

func newServer(t *testing.T) server {
	t.Helper()
	raw := testenv.Redis(t)
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("%s: not a URL", testenv.EnvRedis)
	}
	return server{adminURL: raw, host: u.Host}
}

func (s server) admin(t *testing.T) *goredis.Client {
	t.Helper()
	opts, err := goredis.ParseURL(s.adminURL)
	if err != nil {
		t.Fatal(err)
	}
	opts.DisableIdentity = true
	c := goredis.NewClient(opts)
	t.Cleanup(func() { c.Close() })
	return c
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// hardPassword is full of characters a URL must encode.
func hardPassword(t *testing.T) string { return "p@:/?#%&+ =" + randomHex(t, 8) }

// newUser creates a fresh ACL user with a hard password and returns its URL;
// the user is deleted when the test ends.
func (s server) newUser(t *testing.T) (name string, cred provider.Credential) {
	t.Helper()
	name = "slickenv_test_" + randomHex(t, 6)
	pw := hardPassword(t)
	ctx := context.WithoutCancel(t.Context())
	a := s.admin(t)
	if err := a.Do(ctx, "ACL", "SETUSER", name, "on", ">"+pw, "~*", "+@all").Err(); err != nil {
		t.Fatalf("create user: %v", err)
	}
	t.Cleanup(func() { a.Do(ctx, "ACL", "DELUSER", name) })
	u := url.URL{Scheme: "redis", User: url.UserPassword(name, pw), Host: s.host, Path: "/0"}
	return name, provider.Credential{Value: secret.New(u.String())}
}

// works reports whether c's URL can log in; other failures are fatal.
func (s server) works(ctx context.Context, t *testing.T, c provider.Credential) bool {
	t.Helper()
	opts, err := goredis.ParseURL(c.Value.Reveal())
	if err != nil {
		t.Fatalf("harness: parse URL: %v", scrub(err))
	}
	opts.DisableIdentity = true
	opts.MaxRetries = -1
	cl := goredis.NewClient(opts)
	defer cl.Close()
	err = cl.Ping(ctx).Err()
	switch {
	case err == nil:
		return true
	case strings.Contains(err.Error(), "WRONGPASS"):
		return false
	default:
		t.Fatalf("harness: ping: %v", err)
		return false
	}
}

type harness struct{ s server }

func (h harness) Current(ctx context.Context, t *testing.T) provider.Credential {
	_, c := h.s.newUser(t)
	return c
}

func (h harness) Works(ctx context.Context, t *testing.T, c provider.Credential) bool {
	return h.s.works(ctx, t, c)
}

func newProvider(t *testing.T, settings provider.Settings) *Provider {
	t.Helper()
	p, err := New(settings)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p.(*Provider)
}

func TestSuite(t *testing.T) {
	s := newServer(t)
	providertest.Run(t, func(t *testing.T) provider.Provider {
		return newProvider(t, provider.Settings{"admin_url": s.adminURL})
	}, harness{s})
}

// rotationContext is what the engine passes to every provider call.
func rotationContext(t *testing.T) (context.Context, string) {
	id := "rot_test_" + randomHex(t, 6)
	return provider.WithCall(t.Context(), provider.Call{RotationID: id, Env: "test", Name: "REDIS_URL"}), id
}

func TestRotation(t *testing.T) {
	s := newServer(t)
	p := newProvider(t, provider.Settings{"admin_url": s.adminURL, "encoding": "alnum", "length": 40})
	user, old := s.newUser(t)
	ctx, id := rotationContext(t)

	c, err := p.Create(ctx, provider.CreateRequest{RotationID: id, Current: old})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if c.Meta[MetaUser] != user || c.Meta[MetaCreatedAt] == "" {
		t.Errorf("Meta = %v", c.Meta)
	}
	// Only the password changed.
	ou, _ := url.Parse(old.Value.Reveal())
	nu, _ := url.Parse(c.Value.Reveal())
	npw, _ := nu.User.Password()
	if nu.Scheme != ou.Scheme || nu.Host != ou.Host || nu.Path != ou.Path || nu.User.Username() != user || len(npw) != 40 {
		t.Errorf("new URL differs beyond the password: user %q host %q path %q, password of %d characters", nu.User.Username(), nu.Host, nu.Path, len(npw))
	}
	if !s.works(ctx, t, old) || !s.works(ctx, t, c) {
		t.Fatal("after Create both passwords must work")
	}
	if err := p.Test(ctx, c); err != nil {
		t.Fatalf("Test: %v", err)
	}
	for i := range 2 {
		if err := p.Revoke(ctx, old); err != nil {
			t.Fatalf("Revoke(old) #%d: %v", i+1, err)
		}
	}
	if s.works(ctx, t, old) {
		t.Error("the old password still works after Revoke")
	}
	if !s.works(ctx, t, c) {
		t.Error("the new password stopped working")
	}
	// The marker user is gone.
	if n, err := s.admin(t).Do(ctx, "ACL", "GETUSER", markerName(id)).Result(); !errors.Is(err, goredis.Nil) {
		t.Errorf("marker user still exists: %v %v", n, err)
	}
}

func TestCreateAgainReplacesUnjournaledPassword(t *testing.T) {
	s := newServer(t)
	p := newProvider(t, provider.Settings{"admin_url": s.adminURL})
	_, old := s.newUser(t)
	ctx, id := rotationContext(t)
	req := provider.CreateRequest{RotationID: id, Current: old}
	first, err := p.Create(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	// The engine crashed before journaling first: Create runs again.
	second, err := p.Create(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if s.works(ctx, t, first) {
		t.Error("the password of the unjournaled first Create still works")
	}
	if !s.works(ctx, t, second) || !s.works(ctx, t, old) {
		t.Error("the second Create's password and the current one must work")
	}
}

func TestUserSetting(t *testing.T) {
	s := newServer(t)
	user, old := s.newUser(t)
	// The URL logs in as the default user (no name); the setting names the
	// ACL user to rotate.
	ou, _ := url.Parse(old.Value.Reveal())
	pw, _ := ou.User.Password()
	ou.User = url.UserPassword("", pw)
	p := newProvider(t, provider.Settings{"admin_url": s.adminURL, "user": user})
	ctx, id := rotationContext(t)
	c, err := p.Create(ctx, provider.CreateRequest{RotationID: id, Current: provider.Credential{Value: secret.New(ou.String())}})
	if err != nil {
		t.Fatal(err)
	}
	if c.Meta[MetaUser] != user {
		t.Errorf("rotated user %q, want %q", c.Meta[MetaUser], user)
	}
	nu, _ := url.Parse(c.Value.Reveal())
	if nu.User.Username() != "" {
		t.Errorf("the URL's user changed to %q", nu.User.Username())
	}
}

func TestInUseAndTerminate(t *testing.T) {
	s := newServer(t)
	p := newProvider(t, provider.Settings{"admin_url": s.adminURL})
	_, old := s.newUser(t)
	ctx, id := rotationContext(t)

	// Outside a rotation there is no switch time to compare with.
	if _, err := p.InUse(t.Context(), old); !errors.Is(err, ErrNoSwitchTime) {
		t.Errorf("InUse without a rotation = %v, want ErrNoSwitchTime", err)
	}

	open := func() *goredis.Client {
		opts, _ := goredis.ParseURL(old.Value.Reveal())
		opts.PoolSize, opts.MaxRetries, opts.DisableIdentity = 1, -1, true
		c := goredis.NewClient(opts)
		t.Cleanup(func() { c.Close() })
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := open(), open()
	if _, err := p.Create(ctx, provider.CreateRequest{RotationID: id, Current: old}); err != nil {
		t.Fatal(err)
	}
	waitInUse := func(want int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			n, err := p.InUse(ctx, old)
			if err != nil {
				t.Fatalf("InUse: %v", err)
			}
			if n == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("InUse = %d, want %d", n, want)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitInUse(2)
	a.Close()
	waitInUse(1)

	ended, err := p.Terminate(ctx, old)
	if err != nil || ended != 1 {
		t.Fatalf("Terminate = %d, %v; want 1", ended, err)
	}
	waitInUse(0)
	// b's client would reconnect on its next command (with the old password,
	// a connection CLIENT LIST cannot tell from a new one): close it.
	b.Close()
	if ended, err := p.Terminate(ctx, old); err != nil || ended != 0 {
		t.Errorf("second Terminate = %d, %v; want 0", ended, err)
	}
}

func TestErrorsBeforeAnyChange(t *testing.T) {
	s := newServer(t)
	_, old := s.newUser(t)
	oldURL, _ := url.Parse(old.Value.Reveal())
	oldPW, _ := oldURL.User.Password()
	au, _ := url.Parse(s.adminURL)
	adminPW, _ := au.User.Password()

	wrong := *au
	wrong.User = url.UserPassword(au.User.Username(), "wrong-"+hardPassword(t))
	wrongPW, _ := wrong.User.Password()
	unreachable := *au
	unreachable.Host = "127.0.0.1:1"

	ctx := t.Context()
	limited := "slickenv_test_limited_" + randomHex(t, 4)
	limitedPW := hardPassword(t)
	s.admin(t).Do(ctx, "ACL", "SETUSER", limited, "on", ">"+limitedPW, "+ping", "+client|id")
	t.Cleanup(func() { s.admin(t).Do(context.WithoutCancel(ctx), "ACL", "DELUSER", limited) })
	noPerm := *au
	noPerm.User = url.UserPassword(limited, limitedPW)

	missing := *oldURL
	missing.User = url.UserPassword("slickenv_test_missing_"+randomHex(t, 4), oldPW)

	tests := []struct {
		name     string
		admin    string
		current  string
		want     string // in the error
		sentinel error
	}{
		{"wrong admin password", wrong.String(), old.Value.Reveal(), "WRONGPASS", nil},
		{"unreachable", unreachable.String(), old.Value.Reveal(), "127.0.0.1:1", nil},
		{"no ACL permission", noPerm.String(), old.Value.Reveal(), "NOPERM", nil},
		{"missing user", s.adminURL, missing.String(), "does not exist", ErrNoUser},
		{"not a URL", s.adminURL, "postgres://x:" + oldPW + "@h/db", "not a redis", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newProvider(t, provider.Settings{"admin_url": tt.admin})
			rctx, id := rotationContext(t)
			_, err := p.Create(rctx, provider.CreateRequest{RotationID: id, Current: provider.Credential{Value: secret.New(tt.current)}})
			if err == nil {
				t.Fatal("Create succeeded")
			}
			msg := err.Error()
			t.Log(msg)
			if !strings.Contains(msg, tt.want) {
				t.Errorf("error %q does not say %q", msg, tt.want)
			}
			if tt.sentinel != nil && !errors.Is(err, tt.sentinel) {
				t.Errorf("error %v does not wrap %v", err, tt.sentinel)
			}
			for _, pw := range []string{oldPW, adminPW, wrongPW, limitedPW} {
				for _, form := range []string{pw, url.QueryEscape(pw), url.PathEscape(pw)} {
					if strings.Contains(msg, form) {
						t.Errorf("error contains a password: %q", msg)
					}
				}
			}
			// Nothing changed: the old credential works alone, no marker.
			if !s.works(ctx, t, old) {
				t.Error("the current credential stopped working")
			}
			if err := s.admin(t).Do(ctx, "ACL", "GETUSER", markerName(id)).Err(); !errors.Is(err, goredis.Nil) {
				t.Errorf("a marker user was created: %v", err)
			}
			if tt.name != "not a URL" && tt.name != "missing user" {
				for _, op := range []func() error{
					func() error { return p.Revoke(rctx, old) },
					func() error { _, err := p.InUse(rctx, old); return err },
					func() error { _, err := p.Terminate(rctx, old); return err },
				} {
					err := op()
					if err == nil || strings.Contains(err.Error(), oldPW) || strings.Contains(err.Error(), adminPW) {
						t.Errorf("want an error without passwords, got %v", err)
					}
				}
			}
		})
	}
}

func TestRevokeAbsentUserAndPassword(t *testing.T) {
	s := newServer(t)
	p := newProvider(t, provider.Settings{"admin_url": s.adminURL})
	u := url.URL{Scheme: "redis", User: url.UserPassword("slickenv_test_gone_"+randomHex(t, 4), hardPassword(t)), Host: s.host}
	if err := p.Revoke(t.Context(), provider.Credential{Value: secret.New(u.String())}); err != nil {
		t.Errorf("Revoke of a missing user: %v", err)
	}
	_, old := s.newUser(t)
	ou, _ := url.Parse(old.Value.Reveal())
	ou.User = url.UserPassword(ou.User.Username(), "not-its-password")
	if err := p.Revoke(t.Context(), provider.Credential{Value: secret.New(ou.String())}); err != nil {
		t.Errorf("Revoke of a password the user does not have: %v", err)
	}
	if !s.works(t.Context(), t, old) {
		t.Error("revoking another password broke the user's own")
	}
}

// TestLeastPrivilegeAdmin runs a rotation with an admin holding exactly the
// rights docs/providers/redis.md lists.
func TestLeastPrivilegeAdmin(t *testing.T) {
	s := newServer(t)
	ctx := t.Context()
	name := "slickenv_test_admin_" + randomHex(t, 4)
	pw := hardPassword(t)
	a := s.admin(t)
	if err := a.Do(ctx, "ACL", "SETUSER", name, "on", ">"+pw, "resetkeys", "-@all",
		"+client|id", "+client|list", "+client|kill", "+acl|getuser", "+acl|setuser", "+acl|deluser", "+acl|save").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Do(context.WithoutCancel(ctx), "ACL", "DELUSER", name) })
	admin := url.URL{Scheme: "redis", User: url.UserPassword(name, pw), Host: s.host, Path: "/0"}
	p := newProvider(t, provider.Settings{"admin_url": admin.String()})
	_, old := s.newUser(t)
	rctx, id := rotationContext(t)
	c, err := p.Create(rctx, provider.CreateRequest{RotationID: id, Current: old})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := p.Test(rctx, c); err != nil {
		t.Fatalf("Test: %v", err)
	}
	if _, err := p.InUse(rctx, old); err != nil {
		t.Fatalf("InUse: %v", err)
	}
	if _, err := p.Terminate(rctx, old); err != nil {
		t.Fatalf("Terminate: %v", err)
	}
	if err := p.Revoke(rctx, old); err != nil {
		t.Fatalf("Revoke: %v", err)
	}
	if s.works(ctx, t, old) || !s.works(ctx, t, c) {
		t.Error("after revoke only the new password must work")
	}
}
