package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	goredis "github.com/redis/go-redis/v9"

	"github.com/slickenv/slickenv/internal/provider/postgres"
	"github.com/slickenv/slickenv/internal/secret"
	"github.com/slickenv/slickenv/internal/testenv"
)

// End-to-end rotations of the database providers (issue 8, "How it is
// checked") with the real binary against the real servers of scripts/test:
// a client that keeps opening new connections with whatever the
// environment holds never fails across three rotations in a row; each
// revoked credential is rejected by the server; kill -9 at every state
// boundary is recovered by --resume (or --abort) with exactly the stored
// credential accepted; a failing verification rolls back.

// dbFixture is one provider's per-test server objects and how to log in.
type dbFixture struct {
	kind      string // postgres, mysql, mysql-users, redis
	name      string // the rotated variable
	adminName string // the variable holding admin_url
	admin     string // its value
	initial   string // the variable's value before any rotation
	with      string // the provider's `with:` lines (indented 6)
	users     [2]string

	// login opens a new connection with value and runs a trivial query.
	// rejected reports whether the server refused the credential itself.
	login func(ctx context.Context, value string) (rejected bool, err error)
	// userOf is the user a value logs in as.
	userOf func(value string) string
	// passOf is the password in a value.
	passOf func(value string) string
	// settled checks, as the admin, that nothing but current can log in
	// (no orphaned role, password or marker).
	settled func(t *testing.T, current string)
}

// dbSuffix makes the server objects of one test unique (the servers are
// shared by every test package).
func dbSuffix() string { return randomHex(5) }

// pgFixture: a database, a group and two alternating login roles.
func pgFixture(t *testing.T) *dbFixture {
	t.Helper()
	super := testenv.Postgres(t)
	cfg, err := pgx.ParseConfig(super)
	if err != nil {
		t.Fatalf("%s: %v", testenv.EnvPostgres, err)
	}
	sfx := dbSuffix()
	db, group := "dbrot_"+sfx, "dbrot_app_"+sfx
	roles := [2]string{"dbrot_blue_" + sfx, "dbrot_green_" + sfx}
	pgExec(t, super, "CREATE DATABASE "+pgx.Identifier{db}.Sanitize())
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, super)
		if err != nil {
			t.Logf("cleanup: %v", err)
			return
		}
		defer conn.Close(ctx)
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{db}.Sanitize()+" WITH (FORCE)")
		for _, r := range []string{roles[0], roles[1], group} {
			_, _ = conn.Exec(ctx, "DROP ROLE IF EXISTS "+pgx.Identifier{r}.Sanitize())
		}
	})
	if _, err := postgres.Setup(t.Context(), secret.New(super), group, roles); err != nil {
		t.Fatalf("postgres.Setup: %v", err)
	}
	pw := "p@:/?#%" + randomHex(12)
	pgExec(t, super, "ALTER ROLE "+pgx.Identifier{roles[0]}.Sanitize()+" WITH LOGIN PASSWORD '"+pw+"'")
	hostport := net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
	initial := (&url.URL{Scheme: "postgres", User: url.UserPassword(roles[0], pw), Host: hostport, Path: "/" + db, RawQuery: "sslmode=disable&connect_timeout=5"}).String()
	f := &dbFixture{
		kind: "postgres", name: "DATABASE_URL", adminName: "PG_ADMIN_URL", admin: super, initial: initial, users: roles,
		with: fmt.Sprintf("      admin_url: \"${PG_ADMIN_URL}\"\n      roles: [%s, %s]\n      group: %s\n", roles[0], roles[1], group),
	}
	f.login = func(ctx context.Context, value string) (bool, error) {
		conn, err := pgx.Connect(ctx, value)
		if err != nil {
			var pe *pgconn.PgError
			// 28P01 invalid_password, 28000 e.g. "role is not permitted to log in"
			if errors.As(err, &pe) && (pe.Code == "28P01" || pe.Code == "28000") {
				return true, err
			}
			return false, err
		}
		defer conn.Close(context.Background())
		var one int
		return false, conn.QueryRow(ctx, "SELECT 1").Scan(&one)
	}
	f.userOf = func(value string) string {
		u, err := url.Parse(value)
		if err != nil {
			return "?"
		}
		return u.User.Username()
	}
	f.passOf = urlPassword
	f.settled = func(t *testing.T, current string) {
		t.Helper()
		cur := f.userOf(current)
		for _, r := range roles {
			var canLogin bool
			pgQueryRow(t, super, "SELECT rolcanlogin FROM pg_roles WHERE rolname = $1", []any{r}, &canLogin)
			if canLogin != (r == cur) {
				t.Errorf("role %s: rolcanlogin=%v, but the stored value logs in as %s", r, canLogin, cur)
			}
		}
	}
	return f
}

func pgExec(t *testing.T, u, q string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, q); err != nil {
		t.Fatalf("%s: %v", strings.SplitN(q, " PASSWORD", 2)[0], err)
	}
}

func pgQueryRow(t *testing.T, u, q string, args []any, dst ...any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if err := conn.QueryRow(ctx, q, args...).Scan(dst...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// mysqlFixture: a database and one account (two passwords during the
// window), or with alternate two accounts (users: [a, b]).
func mysqlFixture(t *testing.T, alternate bool) *dbFixture {
	t.Helper()
	dsn := testenv.MySQL(t)
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("%s: %v", testenv.EnvMySQL, err)
	}
	rootCfg := cfg.Clone()
	rootCfg.InterpolateParams = true
	connector, err := mysql.NewConnector(rootCfg)
	if err != nil {
		t.Fatal(err)
	}
	root := sql.OpenDB(connector)
	t.Cleanup(func() { root.Close() })
	rexec := func(q string, args ...any) {
		t.Helper()
		if _, err := root.Exec(q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	sfx := dbSuffix()
	db := "dbrot_" + sfx
	rexec("CREATE DATABASE " + db)
	t.Cleanup(func() { _, _ = root.Exec("DROP DATABASE IF EXISTS " + db) })
	users := [2]string{"dbrot_a_" + sfx, "dbrot_b_" + sfx}
	pw := "p@:/?#%" + randomHex(12)
	for i, u := range users {
		if i == 1 && !alternate {
			break
		}
		rexec("CREATE USER ?@'%' IDENTIFIED BY ?", u, map[bool]string{true: pw, false: randomHex(16)}[i == 0])
		t.Cleanup(func() { _, _ = root.Exec("DROP USER IF EXISTS ?@'%'", u) })
		rexec("GRANT SELECT, INSERT, CREATE TEMPORARY TABLES ON "+db+".* TO ?@'%'", u)
		if i == 1 {
			rexec("ALTER USER ?@'%' ACCOUNT LOCK", u)
		}
	}
	// A go-sql-driver DSN (the password raw), usable with sql.Open as is.
	initial := users[0] + ":" + pw + "@tcp(" + cfg.Addr + ")/" + db + "?timeout=5s"
	f := &dbFixture{kind: "mysql", name: "DATABASE_URL", adminName: "MYSQL_ADMIN_URL", admin: dsn, initial: initial, users: users,
		with: "      admin_url: \"${MYSQL_ADMIN_URL}\"\n"}
	if alternate {
		f.kind = "mysql-users"
		f.with += fmt.Sprintf("      users: [%s, %s]\n", users[0], users[1])
	}
	f.login = func(ctx context.Context, value string) (bool, error) {
		c, err := mysql.ParseDSN(value)
		if err != nil {
			return false, err
		}
		conn, err := mysql.NewConnector(c)
		if err != nil {
			return false, err
		}
		d := sql.OpenDB(conn)
		defer d.Close()
		var one int
		err = d.QueryRowContext(ctx, "SELECT 1").Scan(&one)
		var me *mysql.MySQLError
		// 1045 access denied, 4151 (MariaDB) / 3118 (MySQL) account locked
		if errors.As(err, &me) && (me.Number == 1045 || me.Number == 4151 || me.Number == 3118) {
			return true, err
		}
		return false, err
	}
	f.userOf = func(value string) string {
		c, err := mysql.ParseDSN(value)
		if err != nil {
			return "?"
		}
		return c.User
	}
	f.passOf = func(value string) string {
		c, err := mysql.ParseDSN(value)
		if err != nil {
			return ""
		}
		return c.Passwd
	}
	f.settled = func(t *testing.T, current string) {
		t.Helper()
		cur := f.userOf(current)
		for _, u := range users {
			if u == users[1] && !alternate {
				continue
			}
			var priv string
			if err := root.QueryRow("SELECT Priv FROM mysql.global_priv WHERE User = ? AND Host = '%'", u).Scan(&priv); err != nil {
				t.Fatalf("read %s: %v", u, err)
			}
			locked := strings.Contains(priv, `"account_locked":true`)
			// Every stored authentication method is one password.
			methods := strings.Count(priv, `"authentication_string"`)
			if u == cur {
				if locked || methods != 1 {
					t.Errorf("current account %s: locked=%v, %d passwords, want unlocked with 1: %s", u, locked, methods, priv)
				}
			} else if !locked {
				t.Errorf("standby account %s is not locked: %s", u, priv)
			}
		}
	}
	return f
}

// redisFixture: one ACL user (two passwords during the window).
func redisFixture(t *testing.T) *dbFixture {
	t.Helper()
	admin := testenv.Redis(t)
	opts, err := goredis.ParseURL(admin)
	if err != nil {
		t.Fatalf("%s: %v", testenv.EnvRedis, err)
	}
	opts.DisableIdentity = true
	a := goredis.NewClient(opts)
	t.Cleanup(func() { a.Close() })
	ctx := context.WithoutCancel(t.Context())
	user := "dbrot_" + dbSuffix()
	pw := "p@:/?#%" + randomHex(12)
	if err := a.Do(ctx, "ACL", "SETUSER", user, "on", ">"+pw, "~*", "+@all").Err(); err != nil {
		t.Fatalf("create user: %v", err)
	}
	t.Cleanup(func() { a.Do(ctx, "ACL", "DELUSER", user) })
	initial := (&url.URL{Scheme: "redis", User: url.UserPassword(user, pw), Host: opts.Addr, Path: "/0"}).String()
	f := &dbFixture{kind: "redis", name: "REDIS_URL", adminName: "REDIS_ADMIN_URL", admin: admin, initial: initial, users: [2]string{user, user},
		with: "      admin_url: \"${REDIS_ADMIN_URL}\"\n"}
	f.login = func(ctx context.Context, value string) (bool, error) {
		o, err := goredis.ParseURL(value)
		if err != nil {
			return false, err
		}
		o.DisableIdentity = true
		o.MaxRetries = -1
		c := goredis.NewClient(o)
		defer c.Close()
		err = c.Ping(ctx).Err()
		if err != nil && strings.Contains(err.Error(), "WRONGPASS") {
			return true, err
		}
		return false, err
	}
	f.userOf = func(string) string { return user }
	f.passOf = urlPassword
	f.settled = func(t *testing.T, current string) {
		t.Helper()
		res, err := a.Do(ctx, "ACL", "GETUSER", user).Result()
		if err != nil {
			t.Fatalf("ACL GETUSER: %v", err)
		}
		if n := redisPasswords(res); n != 1 {
			t.Errorf("user %s has %d passwords, want 1", user, n)
		}
	}
	return f
}

func urlPassword(value string) string {
	u, err := url.Parse(value)
	if err != nil {
		return ""
	}
	pw, _ := u.User.Password()
	return pw
}

// noLeaks checks that no output holds a value seen or its password.
func (f *dbFixture) noLeaks(t *testing.T, outputs []string, values ...string) {
	t.Helper()
	for _, v := range append(values, f.admin) {
		for _, secret := range []string{v, f.passOf(v)} {
			if len(secret) < 8 {
				continue
			}
			for _, out := range outputs {
				if strings.Contains(out, secret) {
					t.Errorf("an output of rotate contains a value or password (user %s)", f.userOf(v))
				}
			}
		}
	}
}

// redisPasswords counts the "passwords" of an ACL GETUSER reply.
func redisPasswords(res any) int {
	get := func(k string) any {
		switch m := res.(type) {
		case map[any]any:
			return m[k]
		case []any:
			for i := 0; i+1 < len(m); i += 2 {
				if m[i] == k {
					return m[i+1]
				}
			}
		}
		return nil
	}
	if l, ok := get("passwords").([]any); ok {
		return len(l)
	}
	return -1
}

// dbProject is a slickenv project rotating f's variable.
type dbProject struct {
	*project
	f *dbFixture
}

func newDBProject(t *testing.T, f *dbFixture, verify string) *dbProject {
	t.Helper()
	p := &dbProject{project: newProject(t), f: f}
	p.mustRun(f.admin, "set", f.adminName, "-")
	p.mustRun(f.initial, "set", f.name, "-")
	if verify == "" {
		verify = "      window: 400ms\n"
	}
	yaml := "project: shop\nsecrets:\n  " + f.name + ":\n    provider: " + strings.TrimSuffix(f.kind, "-users") +
		"\n    with:\n" + f.with + "    verify:\n" + verify
	p.writeFile(".slickenv.yaml", yaml)
	return p
}

func (p *dbProject) writeFile(name, content string) {
	p.t.Helper()
	rp := &rotProject{project: p.project}
	rp.write(name, content, 0o644)
}

func (p *dbProject) get() string {
	p.t.Helper()
	return p.mustRun("", "get", "-n", p.f.name)
}

// getVersion returns the variable at version v.
func (p *dbProject) getVersion(v int64) string {
	p.t.Helper()
	return p.mustRun("", "get", "-n", p.f.name, "--version", strconv.FormatInt(v, 10))
}

// rotated returns the values the variable had in versions of kind
// "rotate", oldest first.
func (p *dbProject) rotated() []string {
	p.t.Helper()
	var h historyJSON
	p.jsonOf(&h, "history", "--json", "--limit", "0")
	var out []string
	for _, v := range h.Versions {
		if v.Kind == "rotate" && slices.Contains(v.Names, p.f.name) {
			out = append(out, p.getVersion(v.Version))
		}
	}
	return out
}

func (p *dbProject) rotateEvents(kv []string, args ...string) (events []map[string]any, stderr string, code int) {
	rp := &rotProject{project: p.project, name: p.f.name, mu: new(sync.Mutex), outputs: new([]string)}
	return rp.rotateEvents(kv, args...)
}

// works checks that value logs in (want true) or is rejected by the server
// (want false); any other error fails the test.
func (p *dbProject) works(what, value string, want bool) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rejected, err := p.f.login(ctx, value)
	switch {
	case want && err != nil:
		p.t.Errorf("%s (user %s) does not work: %v", what, p.f.userOf(value), err)
	case !want && err == nil:
		p.t.Errorf("%s (user %s) still logs in, want it rejected", what, p.f.userOf(value))
	case !want && !rejected:
		p.t.Errorf("%s (user %s): %v, want the server to reject the credential", what, p.f.userOf(value), err)
	}
}

// client keeps opening a new connection every 20ms with the value the
// environment holds (refreshed with `slickenv get` every 100ms).
type client struct {
	ok, failed atomic.Int64
	maxGap     atomic.Int64 // the longest time between two refreshes, ns
	mu         sync.Mutex
	errs       []string
	stop       chan struct{}
	wg         sync.WaitGroup
}

func (p *dbProject) startClient(t *testing.T) *client {
	c := &client{stop: make(chan struct{})}
	var cur atomic.Value
	cur.Store(p.get())
	c.wg.Add(2)
	go func() { // refresh
		defer c.wg.Done()
		last := time.Now()
		for {
			select {
			case <-c.stop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			out, err := p.command("", "get", "-n", p.f.name).Output()
			if err != nil {
				c.mu.Lock()
				c.errs = append(c.errs, fmt.Sprintf("get: %v", err))
				c.mu.Unlock()
				continue
			}
			cur.Store(string(out))
			if gap := time.Since(last); int64(gap) > c.maxGap.Load() {
				c.maxGap.Store(int64(gap))
			}
			last = time.Now()
		}
	}()
	go func() { // connect
		defer c.wg.Done()
		for {
			select {
			case <-c.stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
			v := cur.Load().(string)
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_, err := p.f.login(ctx, v)
			cancel()
			if err != nil {
				c.failed.Add(1)
				c.mu.Lock()
				c.errs = append(c.errs, fmt.Sprintf("user %s: %v", p.f.userOf(v), scrubErr(err, v)))
				c.mu.Unlock()
			} else {
				c.ok.Add(1)
			}
		}
	}()
	return c
}

func scrubErr(err error, v string) string { return strings.ReplaceAll(err.Error(), v, "<value>") }

func (c *client) finish(t *testing.T) {
	t.Helper()
	close(c.stop)
	c.wg.Wait()
	t.Logf("client: %d connections succeeded, %d failed; refreshed at least every %s", c.ok.Load(), c.failed.Load(), time.Duration(c.maxGap.Load()))
	if c.failed.Load() > 0 || len(c.errs) > 0 {
		t.Errorf("the client failed %d times: %q", c.failed.Load(), c.errs)
	}
	if c.ok.Load() < 20 {
		t.Errorf("the client connected only %d times", c.ok.Load())
	}
}

var dbFixtures = []struct {
	kind string
	make func(t *testing.T) *dbFixture
}{
	{"postgres", pgFixture},
	{"mysql", func(t *testing.T) *dbFixture { return mysqlFixture(t, false) }},
	{"mysql-users", func(t *testing.T) *dbFixture { return mysqlFixture(t, true) }},
	{"redis", redisFixture},
}

// TestDBRotateUnderLoad: three rotations in a row while a client keeps
// connecting with whatever the environment holds; it never fails, each
// previous credential is rejected after its revoke, and the roles (users)
// alternate.
func TestDBRotateUnderLoad(t *testing.T) {
	t.Parallel()
	for _, fx := range dbFixtures {
		t.Run(fx.kind, func(t *testing.T) {
			t.Parallel()
			f := fx.make(t)
			p := newDBProject(t, f, "      window: 500ms\n")
			c := p.startClient(t)
			prev := f.initial
			seen := []string{prev}
			var outputs []string
			for i := range 3 {
				r := p.run("", "rotate", f.name, "--yes")
				outputs = append(outputs, r.stdout, r.stderr)
				if r.code != 0 {
					t.Fatalf("rotation %d: exit %d\nstderr: %s", i+1, r.code, r.stderr)
				}
				cur := p.get()
				if cur == prev {
					t.Fatalf("rotation %d did not change %s", i+1, f.name)
				}
				p.works(fmt.Sprintf("the value after rotation %d", i+1), cur, true)
				for j, old := range seen {
					p.works(fmt.Sprintf("value %d, revoked by rotation %d", j, i+1), old, false)
				}
				switch f.kind {
				case "postgres", "mysql-users":
					if a, b := f.userOf(prev), f.userOf(cur); a == b || b != f.users[(i+1)%2] {
						t.Errorf("rotation %d: user %s → %s, want %s", i+1, a, b, f.users[(i+1)%2])
					}
				default:
					if f.userOf(cur) != f.userOf(prev) {
						t.Errorf("rotation %d changed the user", i+1)
					}
				}
				f.settled(t, cur)
				seen = append(seen, cur)
				prev = cur
			}
			time.Sleep(150 * time.Millisecond)
			c.finish(t)
			f.noLeaks(t, outputs, seen...)
			p.mustRun("", "audit", "verify")
		})
	}
}

// dbKillPoints are the engine's failpoints (see killPoints); at
// rolling_back the rotation was failing a check.
var dbKillPoints = []string{"create", "planned", "created", "distributed", "deployed", "verified", "revoked", "rolling_back"}

// TestDBRotateKill9 kills rotate at every state boundary: rotate refuses
// (6), --resume finishes (or finishes the rollback) and --abort rolls back;
// afterwards exactly the stored credential works, nothing is orphaned, the
// audit chain verifies and the next rotation works. Every kill point for
// postgres; a selection for mysql and redis.
func TestDBRotateKill9(t *testing.T) {
	t.Parallel()
	for _, fx := range dbFixtures {
		kps := dbKillPoints
		if fx.kind != "postgres" {
			kps = []string{"create", "created", "deployed", "revoked", "rolling_back"}
		}
		for _, kp := range kps {
			for _, mode := range []string{"resume", "abort"} {
				if mode == "abort" && (kp == "revoked" || (fx.kind != "postgres" && kp != "created")) {
					continue // after revoked --abort finishes; see TestDBRotateAbort for deployed
				}
				t.Run(fx.kind+"/"+kp+"/"+mode, func(t *testing.T) {
					t.Parallel()
					dbKillAndRecover(t, fx.make(t), kp, mode)
				})
			}
		}
	}
}

func dbKillAndRecover(t *testing.T, f *dbFixture, kp, mode string) {
	verify := ""
	if kp == "rolling_back" {
		// A check that fails until ./ok exists.
		verify = "      window: 300ms\n      checks:\n        - command: [sh, -c, \"test -e ok\"]\n"
	}
	p := newDBProject(t, f, verify)
	seen := []string{f.initial}
	events, stderr, code := p.rotateEvents([]string{"SLICKENV_FAILPOINT=" + kp}, "--yes")
	outputs := []string{stderr, fmt.Sprint(events)}
	if code != -int(syscall.SIGKILL) {
		t.Fatalf("rotate with failpoint %s ended with %d, want SIGKILL\nstderr: %s", kp, code, stderr)
	}
	id, state := lastState(events)
	if state != stateAt(kp) {
		t.Fatalf("killed at state %q, want %q", state, stateAt(kp))
	}
	seen = appendNew(seen, p.get())
	seen = appendNew(seen, p.rotated()...)
	p.works("the original value after the kill", f.initial, kp != "revoked")

	p.expect(exitUnfinished, []string{id, "--resume", "--abort"}, "", "rotate", f.name, "--yes")
	p.writeFile("ok", "")
	rolledBack := mode == "abort" || kp == "rolling_back"
	want := map[bool]int{true: exitRolledBack, false: 0}[rolledBack]
	r := p.expect(want, nil, "", "rotate", f.name, "--"+mode, "--yes")
	outputs = append(outputs, r.stdout, r.stderr)
	cur := p.get()
	seen = appendNew(seen, p.rotated()...)
	if rolledBack != (cur == f.initial) {
		t.Fatalf("after --%s the store holds user %s's value; rolled back: %v, want %v", mode, f.userOf(cur), cur == f.initial, rolledBack)
	}
	p.works("the stored value after --"+mode, cur, true)
	for i, v := range seen {
		if v != cur {
			p.works(fmt.Sprintf("value %d seen during the rotation", i), v, false)
		}
	}
	f.settled(t, cur)
	f.noLeaks(t, outputs, seen...)
	p.checkMarkerGone(id)
	p.mustRun("", "audit", "verify")
	var audit []auditJSON
	p.jsonOf(&audit, "audit", "--json")
	if !slices.ContainsFunc(audit, func(e auditJSON) bool { return e.Action == "rotate."+mode }) {
		t.Errorf("the audit log does not record the %s", mode)
	}

	// A new rotation works.
	p.mustRun("", "rotate", f.name, "--yes")
	next := p.get()
	p.works("the value of the next rotation", next, true)
	p.works("the value before the next rotation", cur, false)
	f.settled(t, next)
}

// checkMarkerGone: redis's marker user of rotation id was deleted.
func (p *dbProject) checkMarkerGone(id string) {
	p.t.Helper()
	if p.f.kind != "redis" {
		return
	}
	opts, _ := goredis.ParseURL(p.f.admin)
	opts.DisableIdentity = true
	a := goredis.NewClient(opts)
	defer a.Close()
	users, err := a.Do(context.Background(), "ACL", "USERS").StringSlice()
	if err != nil {
		p.t.Fatalf("ACL USERS: %v", err)
	}
	if slices.Contains(users, "slickenv-pending-"+id) {
		p.t.Errorf("marker user slickenv-pending-%s was left behind", id)
	}
}

func appendNew(list []string, vs ...string) []string {
	for _, v := range vs {
		if v != "" && !slices.Contains(list, v) {
			list = append(list, v)
		}
	}
	return list
}

// TestDBRotateAbort: killed at deployed, --abort rolls back: the original
// value is stored and works, the new one is rejected.
func TestDBRotateAbort(t *testing.T) {
	t.Parallel()
	for _, fx := range dbFixtures {
		t.Run(fx.kind, func(t *testing.T) {
			t.Parallel()
			f := fx.make(t)
			p := newDBProject(t, f, "")
			_, stderr, code := p.rotateEvents([]string{"SLICKENV_FAILPOINT=deployed"})
			if code != -int(syscall.SIGKILL) {
				t.Fatalf("rotate ended with %d, want SIGKILL\nstderr: %s", code, stderr)
			}
			pending := p.get()
			if pending == f.initial {
				t.Fatalf("at deployed the store still holds the original value")
			}
			p.works("the new value at deployed", pending, true)
			p.works("the original value at deployed", f.initial, true)
			p.expect(exitRolledBack, nil, "", "rotate", f.name, "--abort", "--yes")
			if got := p.get(); got != f.initial {
				t.Errorf("after --abort the store holds user %s's value, want the original", f.userOf(got))
			}
			p.works("the original value after --abort", f.initial, true)
			p.works("the aborted new value", pending, false)
			f.settled(t, f.initial)
			p.mustRun("", "audit", "verify")
			p.mustRun("", "rotate", f.name, "--yes")
			p.works("the original value after the next rotation", f.initial, false)
			p.works("the value of the next rotation", p.get(), true)
		})
	}
}

// TestDBRotateVerifyFails: a command check that exits 1 rolls back (5).
func TestDBRotateVerifyFails(t *testing.T) {
	t.Parallel()
	for _, fx := range dbFixtures {
		t.Run(fx.kind, func(t *testing.T) {
			t.Parallel()
			f := fx.make(t)
			p := newDBProject(t, f, "      window: 300ms\n      checks:\n        - command: [sh, -c, \"exit 1\"]\n")
			p.expect(exitRolledBack, nil, "", "rotate", f.name, "--yes")
			if got := p.get(); got != f.initial {
				t.Errorf("after the rollback the store holds user %s's value, want the original", f.userOf(got))
			}
			news := p.rotated()
			if len(news) != 1 {
				t.Fatalf("%d rotate versions, want 1", len(news))
			}
			p.works("the original value after the rollback", f.initial, true)
			p.works("the rolled back new value", news[0], false)
			f.settled(t, f.initial)
		})
	}
}
