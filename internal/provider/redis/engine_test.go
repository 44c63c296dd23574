package redis_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/slickenv/slickenv/internal/config"
	"github.com/slickenv/slickenv/internal/crypto"
	"github.com/slickenv/slickenv/internal/environment"
	"github.com/slickenv/slickenv/internal/provider/all"
	"github.com/slickenv/slickenv/internal/rotate"
	"github.com/slickenv/slickenv/internal/secret"
	"github.com/slickenv/slickenv/internal/store"
	"github.com/slickenv/slickenv/internal/store/sqlstore"
	"github.com/slickenv/slickenv/internal/testenv"
)

const engineConfig = `project: shop
secrets:
  REDIS_URL:
    provider: redis
    with: { admin_url: "${REDIS_ADMIN_URL}", encoding: alnum, length: 32 }
    verify:
      window: 300ms
      drain: { timeout: 1s }
`

func hexString(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func ping(ctx context.Context, rawURL string) error {
	opts, err := goredis.ParseURL(rawURL)
	if err != nil {
		return err
	}
	opts.DisableIdentity, opts.MaxRetries, opts.Protocol = true, -1, 2
	c := goredis.NewClient(opts)
	defer c.Close()
	return c.Ping(ctx).Err()
}

// TestEngineRotations runs three rotations in a row through the real
// engine, while a client keeps connecting with whatever the environment
// holds and a long-lived connection holds the old password; --force-revoke
// ends it after the drain timeout.
type engineFixture struct {
	env      *environment.Env
	cfg      *config.Config
	admin    *goredis.Client
	adminURL string
	host     string
	user     string
	oldURL   string
}

func newEngineFixture(t *testing.T) *engineFixture {

	adminURL := testenv.Redis(t)
	ctx := t.Context()
	au, err := url.Parse(adminURL)
	if err != nil {
		t.Fatal(err)
	}
	admin := goredis.NewClient(&goredis.Options{Addr: au.Host, Username: au.User.Username(), Password: func() string { p, _ := au.User.Password(); return p }(), DisableIdentity: true})
	t.Cleanup(func() { admin.Close() })
	user := "slickenv_test_engine_" + hexString(t, 4)
	pw := "p@:/?#%" + hexString(t, 8)
	if err := admin.Do(ctx, "ACL", "SETUSER", user, "on", ">"+pw, "~*", "+@all").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Do(context.WithoutCancel(ctx), "ACL", "DELUSER", user) })
	oldURL := (&url.URL{Scheme: "redis", User: url.UserPassword(user, pw), Host: au.Host, Path: "/0"}).String()

	dir := t.TempDir()
	st, err := sqlstore.OpenSQLite(ctx, filepath.Join(dir, "shop.db"), sqlstore.SQLiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := environment.Create(ctx, st, "shop", "production", "tester", []string{id.Recipient()}); err != nil {
		t.Fatal(err)
	}
	env, err := environment.Open(ctx, st, "shop", "production", "tester")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Unlock(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Apply(ctx, environment.Change{Kind: store.KindSet, Set: []environment.Pair{
		{Name: "REDIS_URL", Value: secret.New(oldURL)},
		{Name: "REDIS_ADMIN_URL", Value: secret.New(adminURL)},
	}}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, config.FileName)
	cfg, err := config.Parse([]byte(engineConfig), path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Path = path

	return &engineFixture{env: env, cfg: cfg, admin: admin, adminURL: adminURL, host: au.Host, user: user, oldURL: oldURL}
}

func TestEngineRotations(t *testing.T) {
	f := newEngineFixture(t)
	ctx := t.Context()
	env, cfg, admin, user := f.env, f.cfg, f.admin, f.user
	current := func() string {
		v, _, err := env.Get(ctx, "REDIS_URL", 0)
		if err != nil {
			t.Fatal(err)
		}
		return v.Reveal()
	}

	// The application: connects with whatever the environment holds now.
	var failures, successes atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
			v, _, err := env.Get(context.WithoutCancel(ctx), "REDIS_URL", 0)
			if err != nil {
				continue
			}
			if err := ping(ctx, v.Reveal()); err != nil {
				failures.Add(1)
				t.Errorf("the application could not connect: %v", strings.ReplaceAll(err.Error(), v.Reveal(), "**"))
			} else {
				successes.Add(1)
			}
		}
	}()

	rotations := map[string]bool{}
	forced := 0
	for round := 1; round <= 3; round++ {
		before := current()
		// A connection that never reconnects, holding the old password.
		opts, _ := goredis.ParseURL(before)
		opts.PoolSize, opts.MaxRetries, opts.DisableIdentity = 1, -1, true
		sticky := goredis.NewClient(opts)
		if err := sticky.Ping(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		e := rotate.New(rotate.Options{Env: env, Config: cfg, Name: "REDIS_URL", Registry: all.Registry(),
			ForceRevoke: true, Reporter: rotate.ReporterFunc(func(ev rotate.Event) {
				if ev.Rotation != "" {
					rotations[ev.Rotation] = true
				}
				if ev.Kind == "info" && strings.Contains(ev.Message, "--force-revoke: ended 1 session") {
					forced++
				}
			})})
		out, err := e.Start(ctx)
		sticky.Close()
		if err != nil || out != rotate.OutcomeDone {
			t.Fatalf("round %d: Start = %v, %v", round, out, err)
		}
		if forced != round {
			t.Errorf("round %d: the drain did not end the old connection (--force-revoke)", round)
		}
		after := current()
		if after == before {
			t.Fatalf("round %d: the value did not change", round)
		}
		nu, _ := url.Parse(after)
		if nu.User.Username() != user || nu.Host != f.host || nu.Path != "/0" {
			t.Errorf("round %d: the URL changed beyond its password", round)
		}
		if err := ping(ctx, before); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
			t.Errorf("round %d: the old password is still accepted (%v)", round, err)
		}
		if err := ping(ctx, after); err != nil {
			t.Errorf("round %d: the new password is rejected: %v", round, err)
		}
	}
	close(stop)
	wg.Wait()
	if failures.Load() != 0 || successes.Load() == 0 {
		t.Errorf("application: %d failures, %d successes", failures.Load(), successes.Load())
	}
	if len(rotations) != 3 {
		t.Errorf("saw rotations %v", rotations)
	}
	// No marker users left behind.
	users, err := admin.Do(ctx, "ACL", "USERS").StringSlice()
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range users {
		if id, ok := strings.CutPrefix(u, "slickenv-pending-"); ok && rotations[id] {
			t.Errorf("marker user left behind: %s", u)
		}
	}
}

// TestEngineDrainTimeoutRollsBack: without --force-revoke, a connection that
// keeps the old password past the drain timeout rolls the rotation back; the
// old password keeps working and the new one is revoked.
func TestEngineDrainTimeoutRollsBack(t *testing.T) {
	f := newEngineFixture(t)
	ctx := t.Context()
	opts, _ := goredis.ParseURL(f.oldURL)
	opts.PoolSize, opts.MaxRetries, opts.DisableIdentity = 1, -1, true
	sticky := goredis.NewClient(opts)
	defer sticky.Close()
	if err := sticky.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	var newURL string
	e := rotate.New(rotate.Options{Env: f.env, Config: f.cfg, Name: "REDIS_URL", Registry: all.Registry(),
		Reporter: rotate.ReporterFunc(func(ev rotate.Event) {
			if ev.Kind == "state" && ev.State == "deployed" {
				v, _, _ := f.env.Get(context.WithoutCancel(ctx), "REDIS_URL", 0)
				newURL = v.Reveal()
			}
		})})
	out, err := e.Start(ctx)
	if out != rotate.OutcomeRolledBack {
		t.Fatalf("Start = %v, %v; want rolled back", out, err)
	}
	if err := sticky.Ping(ctx).Err(); err != nil {
		t.Errorf("the old connection was ended without --force-revoke: %v", err)
	}
	if err := ping(ctx, f.oldURL); err != nil {
		t.Errorf("the old password stopped working: %v", err)
	}
	if newURL == "" || newURL == f.oldURL {
		t.Fatal("did not see the new value")
	}
	if err := ping(ctx, newURL); err == nil || !strings.Contains(err.Error(), "WRONGPASS") {
		t.Errorf("the new password survived the rollback (%v)", err)
	}
	v, _, err := f.env.Get(ctx, "REDIS_URL", 0)
	if err != nil || v.Reveal() != f.oldURL {
		t.Error("the environment does not hold the old value after the rollback")
	}
}
