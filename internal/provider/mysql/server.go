package mysql

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// serverKind is the kind of server at the other end of the admin connection.
type serverKind int

const (
	kindMariaDB serverKind = iota + 1
	kindMySQL
)

func (k serverKind) String() string {
	if k == kindMariaDB {
		return "MariaDB"
	}
	return "MySQL"
}

// session is one admin connection, pinned so that every statement of a
// method runs on the same server session.
type session struct {
	db      *sql.DB
	conn    *sql.Conn
	kind    serverKind
	version string
	secret  string // the admin password, redacted from every error
}

// openSession connects with the admin credential and detects the server.
// MariaDB must be 10.4 or newer (several passwords per account), MySQL
// 8.0.14 or newer (RETAIN CURRENT PASSWORD).
func openSession(ctx context.Context, admin connValue) (*session, error) {
	cfg := admin.cfg.Clone()
	// Client-side interpolation quotes every argument for the connection's
	// character set and SQL mode: ALTER USER cannot be prepared server-side.
	cfg.InterpolateParams = true
	connector, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, fmt.Errorf("admin connection to %s: %w", admin.address(), redact(err, admin.password))
	}
	db := sql.OpenDB(connector)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("admin connection to %s as %q: %w", admin.address(), admin.user, redact(err, admin.password))
	}
	s := &session{db: db, conn: conn, secret: admin.password}
	if err := conn.QueryRowContext(ctx, "SELECT VERSION()").Scan(&s.version); err != nil {
		s.close()
		return nil, fmt.Errorf("admin connection to %s: read the server version: %w", admin.address(), redact(err, admin.password))
	}
	major, minor, patch := parseVersion(s.version)
	if strings.Contains(s.version, "MariaDB") {
		s.kind = kindMariaDB
		if major < 10 || major == 10 && minor < 4 {
			s.close()
			return nil, fmt.Errorf("%w: MariaDB %s cannot give an account two passwords (10.4 or newer is needed)", ErrUnsupported, s.version)
		}
	} else {
		s.kind = kindMySQL
		if major < 8 || major == 8 && minor == 0 && patch < 14 {
			s.close()
			return nil, fmt.Errorf("%w: MySQL %s has no RETAIN CURRENT PASSWORD (8.0.14 or newer is needed)", ErrUnsupported, s.version)
		}
	}
	return s, nil
}

func (s *session) close() {
	s.conn.Close()
	s.db.Close()
}

// exec runs one statement; secrets are redacted from its error.
func (s *session) exec(ctx context.Context, query string, secrets []string, args ...any) error {
	_, err := s.conn.ExecContext(ctx, query, args...)
	return redact(err, append(secrets, s.secret)...)
}

// parseVersion reads "10.11.6-MariaDB-…" or "8.0.36" as numbers.
func parseVersion(v string) (major, minor, patch int) {
	parts := strings.SplitN(v, ".", 3)
	num := func(i int) int {
		if i >= len(parts) {
			return 0
		}
		end := strings.IndexFunc(parts[i], func(r rune) bool { return r < '0' || r > '9' })
		if end < 0 {
			end = len(parts[i])
		}
		n, _ := strconv.Atoi(parts[i][:end])
		return n
	}
	return num(0), num(1), num(2)
}

// authEntry is one way to log in to an account: a plugin and its stored
// authentication string (a password hash for password plugins).
type authEntry struct {
	plugin string
	hash   string
}

// account is what the server stores about one user@host.
type account struct {
	user, host string
	// entries: on MariaDB every alternative of IDENTIFIED VIA … OR …; on
	// MySQL the primary password only.
	entries []authEntry
	// secondary is MySQL's retained password hash, "" when none.
	secondary string
	locked    bool
}

func (a account) String() string { return quoteAccount(a.user, a.host) }

func quoteAccount(user, host string) string {
	return "'" + user + "'@'" + host + "'"
}

// passwordPlugins are the MariaDB plugins whose authentication string is a
// hash of a password that passwordHash computes.
var passwordPlugins = map[string]bool{
	"mysql_native_password": true,
	"ed25519":               true,
}

// pluginName guards the one identifier spliced into SQL text.
var pluginName = regexp.MustCompile(`^[a-z0-9_]{1,64}$`)

// readAccount reads user@host. A missing account is ErrNoUser; a missing
// privilege to read the grant tables is ErrPrivileges.
func (s *session) readAccount(ctx context.Context, user, host string) (account, error) {
	a := account{user: user, host: host}
	switch s.kind {
	case kindMariaDB:
		var priv string
		err := s.conn.QueryRowContext(ctx, "SELECT Priv FROM mysql.global_priv WHERE User = ? AND Host = ?", user, host).Scan(&priv)
		if errors.Is(err, sql.ErrNoRows) {
			return a, fmt.Errorf("%w: %s does not exist (the host setting names the account's host part)", ErrNoUser, a)
		}
		if err != nil {
			return a, fmt.Errorf("read account %s from mysql.global_priv (the admin needs SELECT on it): %w", a, redact(err, s.secret))
		}
		entries, locked, err := parseGlobalPriv(priv)
		if err != nil {
			return a, fmt.Errorf("read account %s: %w", a, err)
		}
		a.entries, a.locked = entries, locked
	case kindMySQL:
		var plugin, locked string
		var hash, secondary []byte
		err := s.conn.QueryRowContext(ctx, `SELECT plugin, authentication_string, account_locked,
			COALESCE(JSON_UNQUOTE(JSON_EXTRACT(User_attributes, '$.additional_password')), '')
			FROM mysql.user WHERE User = ? AND Host = ?`, user, host).Scan(&plugin, &hash, &locked, &secondary)
		if errors.Is(err, sql.ErrNoRows) {
			return a, fmt.Errorf("%w: %s does not exist (the host setting names the account's host part)", ErrNoUser, a)
		}
		if err != nil {
			return a, fmt.Errorf("read account %s from mysql.user (the admin needs SELECT on it): %w", a, redact(err, s.secret))
		}
		a.entries = []authEntry{{plugin: plugin, hash: string(hash)}}
		a.secondary, a.locked = string(secondary), locked == "Y"
	}
	return a, nil
}

// parseGlobalPriv reads the login alternatives of a MariaDB account from
// its mysql.global_priv JSON: the main plugin and authentication_string,
// and auth_or, a list in which {} stands for the main entry.
func parseGlobalPriv(priv string) ([]authEntry, bool, error) {
	type entry struct {
		Plugin     *string `json:"plugin"`
		AuthString *string `json:"authentication_string"`
	}
	var p struct {
		entry
		AuthOr []entry `json:"auth_or"`
		Locked bool    `json:"account_locked"`
	}
	if err := json.Unmarshal([]byte(priv), &p); err != nil {
		return nil, false, fmt.Errorf("%w: unreadable mysql.global_priv entry", ErrUnsupported)
	}
	conv := func(e entry) authEntry {
		out := authEntry{plugin: "mysql_native_password"}
		if e.Plugin != nil {
			out.plugin = *e.Plugin
		}
		if e.AuthString != nil {
			out.hash = *e.AuthString
		}
		return out
	}
	main := conv(p.entry)
	if len(p.AuthOr) == 0 {
		return []authEntry{main}, p.Locked, nil
	}
	var out []authEntry
	for _, e := range p.AuthOr {
		if e.Plugin == nil && e.AuthString == nil {
			out = append(out, main)
		} else {
			out = append(out, conv(e))
		}
	}
	return out, p.Locked, nil
}

// checkPasswordPlugins fails with ErrUnsupported unless every entry of a
// is a password plugin slickenv can restate.
func checkPasswordPlugins(a account) error {
	for _, e := range a.entries {
		if _, ok := passwordPlugins[e.plugin]; !ok {
			return fmt.Errorf("%w: %s logs in with %s, not a password (mysql_native_password or ed25519)", ErrUnsupported, a, e.plugin)
		}
	}
	return nil
}

// matching returns the indexes of a's entries that password opens (MariaDB).
func matching(a account, password string) ([]int, error) {
	var out []int
	for i, e := range a.entries {
		h, err := passwordHash(e.plugin, password)
		if err != nil {
			return nil, err
		}
		if h == e.hash {
			out = append(out, i)
		}
	}
	return out, nil
}

// alternative is one part of a MariaDB IDENTIFIED VIA … OR … clause.
type alternative struct {
	plugin string
	hash   string
}

// newAlternative hashes password for plugin.
func newAlternative(plugin, password string) (alternative, error) {
	h, err := passwordHash(plugin, password)
	return alternative{plugin: plugin, hash: h}, err
}

// restate sets exactly alts as the ways to log in to user@host (MariaDB),
// dropping every other; lock is "", "ACCOUNT LOCK" or "ACCOUNT UNLOCK".
// Only hashes travel in the statement.
func (s *session) restate(ctx context.Context, user, host string, alts []alternative, lock string) error {
	var q strings.Builder
	q.WriteString("ALTER USER ?@? IDENTIFIED VIA ")
	args := []any{user, host}
	for i, a := range alts {
		if !pluginName.MatchString(a.plugin) {
			return fmt.Errorf("%w: plugin name %q", ErrUnsupported, a.plugin)
		}
		if i > 0 {
			q.WriteString(" OR ")
		}
		q.WriteString(a.plugin + " USING ?")
		args = append(args, a.hash)
	}
	if lock != "" {
		q.WriteString(" " + lock)
	}
	return s.exec(ctx, q.String(), nil, args...)
}

// hashLiteral writes a MySQL authentication string as SQL: caching_sha2
// hashes hold binary salt bytes, which only a hex literal carries intact.
func hashLiteral(hash string) string {
	for i := 0; i < len(hash); i++ {
		if hash[i] < 0x20 || hash[i] > 0x7e || hash[i] == '\'' || hash[i] == '\\' {
			return "0x" + hex.EncodeToString([]byte(hash))
		}
	}
	return "'" + hash + "'"
}
