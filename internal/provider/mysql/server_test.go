package mysql

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/slickenv/slickenv/internal/testenv"
)

// testDB is the database test accounts may use (the default write probe
// needs one).
const testDB = "slickenv_test"

// server is the test MariaDB, reached as root.
type server struct {
	rootDSN string
	addr    string
	root    *sql.DB
}

func startServer(t *testing.T) *server {
	t.Helper()
	dsn := testenv.MySQL(t)
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("%s: %v", testenv.EnvMySQL, err)
	}
	// ALTER USER and CREATE USER cannot be prepared: quote arguments client-side.
	rootCfg := cfg.Clone()
	rootCfg.InterpolateParams = true
	connector, err := mysql.NewConnector(rootCfg)
	if err != nil {
		t.Fatal(err)
	}
	root := sql.OpenDB(connector)
	t.Cleanup(func() { root.Close() })
	if _, err := root.Exec("CREATE DATABASE IF NOT EXISTS " + testDB); err != nil {
		t.Fatalf("create the test database: %v", err)
	}
	return &server{rootDSN: dsn, addr: cfg.Addr, root: root}
}

func (s *server) exec(t *testing.T, query string, args ...any) {
	t.Helper()
	if _, err := s.root.Exec(query, args...); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
}

// newUser creates a fresh account with password that may use testDB.
func (s *server) newUser(t *testing.T, password string) string {
	t.Helper()
	user := "slk_" + randomHex(t, 5)
	s.exec(t, "CREATE USER ?@'%' IDENTIFIED BY ?", user, password)
	s.exec(t, "GRANT SELECT, INSERT, CREATE TEMPORARY TABLES ON "+testDB+".* TO ?@'%'", user)
	t.Cleanup(func() { s.root.Exec("DROP USER IF EXISTS ?@'%'", user) })
	return user
}

// value writes a connection value for user in the URL or DSN format.
func (s *server) value(user, password string, url bool) string {
	if url {
		return "mysql://" + escapeUserinfo(user) + ":" + escapeUserinfo(password) + "@" + s.addr + "/" + testDB + "?timeout=5s"
	}
	return user + ":" + password + "@tcp(" + s.addr + ")/" + testDB + "?timeout=5s"
}

// adminURL is root's credential as a mysql:// URL.
func (s *server) adminURL(t *testing.T) string {
	cfg, _ := mysql.ParseDSN(s.rootDSN)
	return "mysql://" + escapeUserinfo(cfg.User) + ":" + escapeUserinfo(cfg.Passwd) + "@" + cfg.Addr + "/"
}

// works logs in with a connection value and runs SELECT 1.
func (s *server) works(ctx context.Context, t *testing.T, value string) bool {
	t.Helper()
	v, err := parseValue(value)
	if err != nil {
		t.Fatalf("harness: parse the credential: %v", err)
	}
	db, conn, err := dial(ctx, v)
	if isAccessDenied(err) {
		return false
	}
	if err != nil {
		t.Fatalf("harness: log in: %v", err)
	}
	defer db.Close()
	defer conn.Close()
	var one int
	if err := conn.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		t.Fatalf("harness: SELECT 1: %v", err)
	}
	return true
}

// priv returns the stored account, to prove that nothing changed.
func (s *server) priv(t *testing.T, user string) string {
	t.Helper()
	var p string
	if err := s.root.QueryRow("SELECT Priv FROM mysql.global_priv WHERE User = ? AND Host = '%'", user).Scan(&p); err != nil {
		t.Fatalf("read %s: %v", user, err)
	}
	return p
}

func randomHex(t testing.TB, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// nasty returns a password full of characters that need escaping.
func nasty(t testing.TB) string { return nastyPassword + randomHex(t, 4) }

func mustParse(t *testing.T, s string) connValue {
	t.Helper()
	v, err := parseValue(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
