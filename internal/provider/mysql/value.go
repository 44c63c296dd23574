package mysql

import (
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// valueFormat is how a connection value is written.
type valueFormat int

const (
	formatURL valueFormat = iota // mysql://user:pass@host:port/db?params
	formatDSN                    // user:pass@tcp(host:port)/db?params (go-sql-driver)
)

// defaultDialTimeout bounds connecting when the value sets no timeout.
const defaultDialTimeout = 10 * time.Second

// connValue is a parsed connection value: a mysql:// URL or a go-sql-driver
// DSN. Only its user and password are ever changed; the rest of the text is
// kept byte for byte.
type connValue struct {
	format         valueFormat
	user, password string
	// head and tail are the raw text around the user information, so that
	// withLogin can splice a new user and password in.
	head, tail string
	cfg        *mysql.Config // driver configuration, user and password included
}

// errValue is wrapped by every parse error. Parse errors never quote the
// value: it holds a password.
var errValue = errors.New("not a mysql:// URL or a go-sql-driver DSN (user:password@tcp(host:port)/db)")

// isURL reports whether s is written as a URL (mysql:// or mariadb://).
func isURL(s string) bool {
	l := strings.ToLower(s)
	return strings.HasPrefix(l, "mysql://") || strings.HasPrefix(l, "mariadb://")
}

// parseValue parses a connection value. The error never contains s.
func parseValue(s string) (connValue, error) {
	if isURL(s) {
		return parseURL(s)
	}
	return parseDSN(s)
}

func parseURL(s string) (connValue, error) {
	u, err := url.Parse(s)
	if err != nil {
		// url.Error quotes the input; say only what to check.
		return connValue{}, errors.New("not a valid mysql:// URL (percent-encode special characters in the user and password)")
	}
	if u.User == nil || u.User.Username() == "" {
		return connValue{}, errors.New("the mysql:// URL names no user")
	}
	if u.Host == "" {
		return connValue{}, errors.New("the mysql:// URL names no host")
	}
	if strings.Contains(s, "#") {
		// An unescaped '#' starts a fragment and cuts the URL short.
		return connValue{}, errors.New("the mysql:// URL has a '#' fragment (percent-encode '#' in the password as %23)")
	}
	schemeEnd := strings.Index(s, "://") + len("://")
	rest := s[schemeEnd:]
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	at := strings.LastIndex(authority, "@")
	if at < 0 {
		return connValue{}, errors.New("the mysql:// URL names no user")
	}
	pass, _ := u.User.Password()
	// The driver reads the rest (database, parameters) from an equivalent DSN
	// without user information, so both formats accept the same parameters.
	dsn := "tcp(" + u.Host + ")/" + url.PathEscape(strings.TrimPrefix(u.Path, "/"))
	if u.RawQuery != "" {
		dsn += "?" + u.RawQuery
	}
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return connValue{}, errors.New("the mysql:// URL has an invalid database name or parameter (parameters are go-sql-driver's)")
	}
	cfg.User, cfg.Passwd = u.User.Username(), pass
	return finish(connValue{format: formatURL, user: cfg.User, password: pass,
		head: s[:schemeEnd], tail: rest[at:], cfg: cfg}), nil
}

func parseDSN(s string) (connValue, error) {
	slash := strings.LastIndex(s, "/")
	if slash < 0 {
		return connValue{}, errValue
	}
	at := strings.LastIndex(s[:slash], "@")
	if at <= 0 {
		return connValue{}, errors.New("the DSN names no user (user:password@tcp(host:port)/db)")
	}
	cfg, err := mysql.ParseDSN(s)
	if err != nil {
		return connValue{}, errValue
	}
	if cfg.User == "" {
		return connValue{}, errors.New("the DSN names no user (user:password@tcp(host:port)/db)")
	}
	return finish(connValue{format: formatDSN, user: cfg.User, password: cfg.Passwd,
		head: "", tail: s[at:], cfg: cfg}), nil
}

func finish(v connValue) connValue {
	if v.cfg.Timeout == 0 {
		v.cfg.Timeout = defaultDialTimeout
	}
	return v
}

// withLogin returns the value with user and password replaced, in the same
// format, everything else unchanged. It fails (never quoting a password)
// when the result would not parse back to exactly user and password.
func (v connValue) withLogin(user, password string) (string, error) {
	var out string
	switch v.format {
	case formatURL:
		out = v.head + escapeUserinfo(user) + ":" + escapeUserinfo(password) + v.tail
	default:
		out = v.head + user + ":" + password + v.tail
	}
	back, err := parseValue(out)
	if err != nil || back.user != user || back.password != password {
		return "", errors.New("the new user and password cannot be written into this connection value")
	}
	return out, nil
}

// escapeUserinfo percent-encodes everything but RFC 3986 unreserved
// characters, the one encoding every URL parser reads back the same way.
func escapeUserinfo(s string) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// address names the server of a value for messages: host:port, never user
// information.
func (v connValue) address() string {
	return v.cfg.Net + "(" + v.cfg.Addr + ")"
}
