package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/secret"
	"github.com/slickenv/slickenv/internal/testenv"
)

// server is the test PostgreSQL server (testenv.Postgres) with one test's
// own database, group and roles, dropped at the end of the test.
type server struct {
	superURL string // superuser URL from the environment
	host     string
	port     uint16
	db       string
	group    string
	roles    [2]string
}

func randomSuffix(t testing.TB) string {
	b := make([]byte, 5)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// newServer creates a database, a group and two roles (with Setup) for t.
func newServer(t *testing.T) *server {
	t.Helper()
	super := testenv.Postgres(t)
	cfg, err := pgx.ParseConfig(super)
	if err != nil {
		t.Fatalf("%s: %v", testenv.EnvPostgres, err)
	}
	sfx := randomSuffix(t)
	s := &server{
		superURL: super, host: cfg.Host, port: cfg.Port,
		db:    "slickenv_t_" + sfx,
		group: "slickenv_app_" + sfx,
		roles: [2]string{"slickenv_blue_" + sfx, "slickenv_green_" + sfx},
	}
	s.exec(t, "CREATE DATABASE "+pgx.Identifier{s.db}.Sanitize())
	t.Cleanup(func() {
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, super)
		if err != nil {
			t.Logf("cleanup: %v", err)
			return
		}
		defer conn.Close(ctx)
		_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{s.db}.Sanitize()+" WITH (FORCE)")
		for _, r := range []string{s.roles[0], s.roles[1], s.group} {
			_, _ = conn.Exec(ctx, "DROP ROLE IF EXISTS "+pgx.Identifier{r}.Sanitize())
		}
	})
	if _, err := Setup(t.Context(), secret.New(super), s.group, s.roles); err != nil {
		t.Fatalf("Setup: %v", err)
	}
	// The application's schema: a table the group may read and write.
	s.execDB(t, fmt.Sprintf("CREATE TABLE items (id int); GRANT SELECT, INSERT ON items TO %s", pgx.Identifier{s.group}.Sanitize()))
	return s
}

// url returns a URL of the test database for user and password.
func (s *server) url(user, password string) string {
	return "postgres://" + escapeURL(user) + ":" + escapeURL(password) + "@" +
		net.JoinHostPort(s.host, strconv.Itoa(int(s.port))) + "/" + s.db + "?sslmode=disable"
}

// superDBURL is the superuser URL of the test database.
func (s *server) superDBURL(t *testing.T) string {
	cfg, err := pgx.ParseConfig(s.superURL)
	if err != nil {
		t.Fatal(err)
	}
	return s.url(cfg.User, cfg.Password)
}

func (s *server) exec(t *testing.T, sql string, args ...any) {
	t.Helper()
	execURL(t, s.superURL, sql, args...)
}

func (s *server) execDB(t *testing.T, sql string, args ...any) {
	t.Helper()
	execURL(t, s.superDBURL(t), sql, args...)
}

func execURL(t *testing.T, url, sql string, args ...any) {
	t.Helper()
	// Not t.Context(): cleanups run after it is cancelled.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// login gives role LOGIN and password (sent in clear: test passwords may
// hold anything) and returns its URL.
func (s *server) login(t *testing.T, role, password string) string {
	t.Helper()
	s.exec(t, "ALTER ROLE "+pgx.Identifier{role}.Sanitize()+" WITH LOGIN PASSWORD "+quoteLiteral(password))
	return s.url(role, password)
}

// settings are the provider settings of s with the superuser as admin.
func (s *server) settings() provider.Settings {
	return provider.Settings{
		"admin_url": s.superURL,
		"roles":     []any{s.roles[0], s.roles[1]},
		"group":     s.group,
	}
}

func (s *server) provider(t *testing.T, settings provider.Settings) *Provider {
	t.Helper()
	p, err := New(settings)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p.(*Provider)
}

// works reports whether the server accepts value's login; only a rejected
// login (SQLSTATE class 28) is false, anything else fails t.
func works(t *testing.T, value secret.Value) bool {
	t.Helper()
	conn, err := connect(t.Context(), value)
	if isAuthError(err) {
		return false
	}
	if err != nil {
		t.Fatalf("connect: %v", scrubValue(err, value))
	}
	defer conn.Close(context.Background())
	var one int
	if err := conn.QueryRow(t.Context(), "SELECT 1").Scan(&one); err != nil {
		t.Fatalf("SELECT 1: %v", scrubValue(err, value))
	}
	return true
}

// rolpassword returns role's stored verifier and whether it may log in.
func (s *server) rolpassword(t *testing.T, role string) (string, bool) {
	t.Helper()
	conn, err := pgx.Connect(t.Context(), s.superURL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var pw *string
	var login bool
	err = conn.QueryRow(t.Context(), "SELECT rolpassword, rolcanlogin FROM pg_authid WHERE rolname = $1", role).Scan(&pw, &login)
	if errors.Is(err, pgx.ErrNoRows) {
		return "<missing>", false
	}
	if err != nil {
		t.Fatal(err)
	}
	if pw == nil {
		return "<null>", login
	}
	return *pw, login
}

// passwordsChecked reports whether the server checks passwords on TCP (it
// does not with trust authentication).
func (s *server) passwordsChecked(t *testing.T) bool {
	t.Helper()
	role := "slickenv_pwcheck_" + randomSuffix(t)
	s.exec(t, "CREATE ROLE "+role+" LOGIN PASSWORD 'right-password'")
	defer s.exec(t, "DROP ROLE "+role)
	return !works(t, secret.New(s.url(role, "wrong-password")))
}

// requirePasswords skips t when the server does not check passwords.
func (s *server) requirePasswords(t *testing.T) {
	t.Helper()
	if !s.passwordsChecked(t) {
		testenv.Skip(t, "the test PostgreSQL server does not check passwords on TCP (trust authentication); scripts/test should use scram-sha-256")
	}
}

// harness is the providertest view of s.
type harness struct{ s *server }

func (h harness) Current(ctx context.Context, t *testing.T) provider.Credential {
	pw := "cur-" + randomSuffix(t)
	return provider.Credential{Value: secret.New(h.s.login(t, h.s.roles[0], pw)), Meta: map[string]string{MetaRole: h.s.roles[0]}}
}

func (h harness) Works(ctx context.Context, t *testing.T, c provider.Credential) bool {
	if _, err := parseConnString(c.Value.Reveal()); err != nil {
		return false
	}
	return works(t, c.Value)
}
