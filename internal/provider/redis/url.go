package redis

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/slickenv/slickenv/internal/secret"
)

// redisURL is a parsed redis:// or rediss:// URL. Its password is decoded.
type redisURL struct {
	raw      string
	u        *url.URL
	password string
}

// parseURL parses v. Its errors never quote v: url.Parse's do, so they are
// replaced.
func parseURL(v secret.Value) (*redisURL, error) {
	raw := v.Reveal()
	if !strings.HasPrefix(raw, "redis://") && !strings.HasPrefix(raw, "rediss://") {
		return nil, errors.New("not a redis:// or rediss:// URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, errors.New("not a valid URL (is a special character in the password not percent-encoded?)")
	}
	if u.Host == "" {
		return nil, errors.New("the URL has no host")
	}
	r := &redisURL{raw: raw, u: u}
	if u.User != nil {
		r.password, _ = u.User.Password()
	}
	return r, nil
}

// user is the ACL user the URL logs in as ("default" when it names none).
func (r *redisURL) user() string {
	if r.u.User != nil && r.u.User.Username() != "" {
		return r.u.User.Username()
	}
	return "default"
}

// host is host:port, for messages.
func (r *redisURL) host() string { return r.u.Host }

// withPassword returns the URL with only its password replaced, percent-
// encoded as userinfo requires; every other byte (user, host, database,
// query, the encoding of the user name) stays as written.
func (r *redisURL) withPassword(password string) string {
	raw := r.raw
	start := strings.Index(raw, "://") + len("://")
	end := len(raw)
	if i := strings.IndexAny(raw[start:], "/?#"); i >= 0 {
		end = start + i
	}
	authority := raw[start:end]
	at := strings.LastIndex(authority, "@")
	encoded := strings.TrimPrefix(url.UserPassword("", password).String(), ":")
	if at < 0 {
		return raw[:start] + ":" + encoded + "@" + raw[start:]
	}
	name, _, _ := strings.Cut(authority[:at], ":")
	return raw[:start] + name + ":" + encoded + raw[start+at:]
}

// String returns the URL, password included.
func (r *redisURL) String() string { return r.u.String() }

// scrubbedError is an error whose text had every secret replaced. It
// unwraps only to a context error or ErrNoUser, never to the original
// error, whose text may quote a secret.
type scrubbedError struct {
	msg      string
	sentinel error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.sentinel }

var sentinels = []error{context.Canceled, context.DeadlineExceeded, ErrNoUser}

// scrub returns err with every secret (raw and percent-encoded) replaced by
// "**redacted**". It returns nil for nil.
func scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, form := range []string{s, url.QueryEscape(s), url.PathEscape(s), url.UserPassword("", s).String()[1:]} {
			if form != "" {
				msg = strings.ReplaceAll(msg, form, "**redacted**")
			}
		}
	}
	var sentinel error
	for _, s := range sentinels {
		if errors.Is(err, s) {
			sentinel = s
		}
	}
	return &scrubbedError{msg: msg, sentinel: sentinel}
}
