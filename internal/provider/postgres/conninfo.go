package postgres

import (
	"errors"
	"net/url"
	"strings"
)

// errConnString is the reason a connection string cannot be read. Its text
// never quotes the string: it may hold a password.
var errConnString = errors.New("not a PostgreSQL connection URL (postgres://…) or key=value string")

// connString is a connection string as the user wrote it, either a URL
// (postgres://user:pass@host:port/db?params) or a libpq key=value string
// ("host=… user=… password=…"). withCredentials rewrites only the user and
// the password, so every other byte (hosts, parameters, their order) stays
// as written.
type connString struct {
	isURL bool
	user  string
	pass  string

	// URL form: prefix is "scheme://", userinfo the part before '@' ("" when
	// absent), rest everything after it; query holds the parameters of rest
	// when they set user or password.
	prefix, userinfo, rest string

	// key=value form: the parsed pairs with the spans of their values.
	pairs []dsnPair
	raw   string
}

type dsnPair struct {
	key        string
	value      string
	start, end int // byte span of the value as written (quotes included)
}

// isURL reports whether s starts with a PostgreSQL URL scheme, in lower
// case as libpq and pgx require.
func isURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// parseConnString reads s. It returns errConnString (never quoting s) when s
// is neither form.
func parseConnString(s string) (*connString, error) {
	if isURL(s) {
		return parseURL(s)
	}
	return parseDSN(s)
}

func parseURL(s string) (*connString, error) {
	i := strings.Index(s, "://") + 3
	c := &connString{isURL: true, prefix: s[:i]}
	body := s[i:]
	// As in libpq (and pgx, which mirrors it): a userinfo is present when
	// an '@' comes before any '/', and ends at that first '@'. There are no
	// fragments: the query runs to the end.
	if at := strings.IndexAny(body, "@/"); at >= 0 && body[at] == '@' {
		c.userinfo, c.rest = body[:at], body[at+1:]
		u, p, _ := strings.Cut(c.userinfo, ":")
		var err error
		if c.user, err = url.PathUnescape(u); err != nil {
			return nil, errConnString
		}
		if c.pass, err = url.PathUnescape(p); err != nil {
			return nil, errConnString
		}
	} else {
		c.rest = body
	}
	// Parameters override the userinfo, as in libpq.
	if q := c.query(); q != "" {
		for _, kv := range strings.Split(q, "&") {
			k, v, _ := strings.Cut(kv, "=")
			k, err1 := url.PathUnescape(k)
			v, err2 := url.PathUnescape(v)
			if err1 != nil || err2 != nil {
				return nil, errConnString
			}
			switch k {
			case "user":
				c.user = v
			case "password":
				c.pass = v
			}
		}
	}
	return c, nil
}

// querySpan returns the byte span of a URL's raw query in rest: from after
// the first '?' to the end; ok is false when there is none.
func (c *connString) querySpan() (start, end int, ok bool) {
	q := strings.IndexByte(c.rest, '?')
	if q < 0 {
		return 0, 0, false
	}
	return q + 1, len(c.rest), true
}

// query returns the raw query of a URL.
func (c *connString) query() string {
	start, end, ok := c.querySpan()
	if !ok {
		return ""
	}
	return c.rest[start:end]
}

func parseDSN(s string) (*connString, error) {
	c := &connString{raw: s}
	i := 0
	skipSpace := func() {
		for i < len(s) && isDSNSpace(s[i]) {
			i++
		}
	}
	for {
		skipSpace()
		if i == len(s) {
			break
		}
		k := i
		for i < len(s) && s[i] != '=' && !isDSNSpace(s[i]) {
			i++
		}
		key := s[k:i]
		skipSpace()
		if key == "" || i == len(s) || s[i] != '=' {
			return nil, errConnString
		}
		i++
		skipSpace()
		start := i
		var val strings.Builder
		if i < len(s) && s[i] == '\'' {
			i++
			closed := false
			for i < len(s) {
				ch := s[i]
				if ch == '\\' && i+1 < len(s) {
					val.WriteByte(s[i+1])
					i += 2
					continue
				}
				i++
				if ch == '\'' {
					closed = true
					break
				}
				val.WriteByte(ch)
			}
			if !closed {
				return nil, errConnString
			}
		} else {
			for i < len(s) && !isDSNSpace(s[i]) {
				if s[i] == '\\' {
					i++
					if i == len(s) {
						break // libpq drops a trailing backslash
					}
				}
				val.WriteByte(s[i])
				i++
			}
		}
		c.pairs = append(c.pairs, dsnPair{key: key, value: val.String(), start: start, end: i})
		switch key {
		case "user":
			c.user = val.String()
		case "password":
			c.pass = val.String()
		}
	}
	if len(c.pairs) == 0 {
		return nil, errConnString
	}
	return c, nil
}

func isDSNSpace(b byte) bool {
	return b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' || b == '\v'
}

// withCredentials returns the connection string with user and password
// replaced and everything else as written.
func (c *connString) withCredentials(user, password string) string {
	if c.isURL {
		return c.urlWithCredentials(user, password)
	}
	return c.dsnWithCredentials(user, password)
}

func (c *connString) urlWithCredentials(user, password string) string {
	rest := c.rest
	inQuery := map[string]bool{}
	if start, end, ok := c.querySpan(); ok && start < end {
		parts := strings.Split(rest[start:end], "&")
		for n, kv := range parts {
			k, _, _ := strings.Cut(kv, "=")
			switch uk, _ := url.PathUnescape(k); uk {
			case "user":
				parts[n] = k + "=" + escapeURL(user)
				inQuery["user"] = true
			case "password":
				parts[n] = k + "=" + escapeURL(password)
				inQuery["password"] = true
			}
		}
		rest = rest[:start] + strings.Join(parts, "&") + rest[end:]
	}
	// The userinfo keeps what it had, and takes what the query lacks.
	uiUser, uiPass, hadPass := strings.Cut(c.userinfo, ":")
	var ui string
	if !inQuery["user"] || uiUser != "" {
		ui = escapeURL(user)
	}
	if !inQuery["password"] || (hadPass && uiPass != "") {
		ui += ":" + escapeURL(password)
	}
	if ui == "" {
		return c.prefix + rest
	}
	return c.prefix + ui + "@" + rest
}

func (c *connString) dsnWithCredentials(user, password string) string {
	var b strings.Builder
	last := 0
	seen := map[string]bool{}
	for _, p := range c.pairs {
		seen[p.key] = true
	}
	appending := !seen["user"] || !seen["password"]
	for n, p := range c.pairs {
		var v string
		switch {
		case p.key == "user":
			v = quoteDSN(user)
		case p.key == "password":
			v = quoteDSN(password)
		case appending && n == len(c.pairs)-1 && (p.start == p.end ||
			c.raw[p.start] != '\'' && strings.IndexByte(c.raw[p.start:p.end], '\\') >= 0):
			// An empty bare value at the end would take the appended
			// key=value as its value, and a backslash could escape the
			// separator: quote it.
			v = quoteDSN(p.value)
		default:
			continue
		}
		b.WriteString(c.raw[last:p.start])
		b.WriteString(v)
		last = p.end
	}
	b.WriteString(c.raw[last:])
	out := b.String()
	if !seen["user"] {
		out = strings.TrimRight(out, " \t\r\n\f\v") + " user=" + quoteDSN(user)
	}
	if !seen["password"] {
		out = strings.TrimRight(out, " \t\r\n\f\v") + " password=" + quoteDSN(password)
	}
	return out
}

// escapeURL percent-encodes every byte but the unreserved characters of
// RFC 3986, which every URL parser (libpq, pgx, JDBC, psycopg) decodes the
// same way in a userinfo and in a query.
func escapeURL(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || ch == '-' || ch == '.' || ch == '_' || ch == '~' {
			b.WriteByte(ch)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[ch>>4])
		b.WriteByte(hex[ch&15])
	}
	return b.String()
}

// quoteDSN quotes a key=value value the way libpq reads it: bare when it is
// made of safe characters, else single-quoted with every backslash and quote
// escaped by a backslash.
func quoteDSN(s string) string {
	safe := s != ""
	for i := 0; i < len(s) && safe; i++ {
		ch := s[i]
		safe = 'a' <= ch && ch <= 'z' || 'A' <= ch && ch <= 'Z' || '0' <= ch && ch <= '9' || strings.IndexByte("-._~+/=:@,", ch) >= 0
	}
	if safe {
		return s
	}
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if s[i] == '\'' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
	return b.String()
}
