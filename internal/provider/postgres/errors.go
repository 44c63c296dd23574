package postgres

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Sentinel errors; the errors of this package wrap them where they apply.
var (
	// ErrMissingRole: a role the configuration names does not exist.
	ErrMissingRole = errors.New("role is missing")
	// ErrUnmanagedRole: a credential's role is not one of the configured
	// roles; slickenv refuses to change it.
	ErrUnmanagedRole = errors.New("role is not managed by this provider")
	// ErrPrivileges: the admin connection may not do what rotation needs.
	ErrPrivileges = errors.New("insufficient privileges")
	// ErrAuthentication: the server rejected a login (wrong password,
	// NOLOGIN role, pg_hba.conf).
	ErrAuthentication = errors.New("authentication failed")
)

// scrubbedError carries a driver error's text with every secret replaced.
// It unwraps only to what is safe to examine: this package's sentinels and
// context errors, never the driver error, whose text may hold a secret.
type scrubbedError struct {
	msg  string
	kind []error
}

func (e *scrubbedError) Error() string   { return e.msg }
func (e *scrubbedError) Unwrap() []error { return e.kind }

// scrub returns err with every occurrence of the secrets (and of their
// URL-encoded and key=value-quoted forms) replaced by **redacted**. A
// nil err gives nil.
func scrub(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	for _, s := range secrets {
		if len(s) < 3 {
			continue
		}
		for _, form := range []string{s, escapeURL(s), url.QueryEscape(s), url.PathEscape(s), quoteDSN(s)} {
			msg = strings.ReplaceAll(msg, form, "**redacted**")
		}
	}
	out := &scrubbedError{msg: msg}
	for _, k := range []error{context.Canceled, context.DeadlineExceeded, ErrAuthentication, ErrMissingRole, ErrPrivileges, ErrUnmanagedRole} {
		if errors.Is(err, k) {
			out.kind = append(out.kind, k)
		}
	}
	if isAuthError(err) && !errors.Is(err, ErrAuthentication) {
		out.kind = append(out.kind, ErrAuthentication)
	}
	if sqlState(err) == "42501" && !errors.Is(err, ErrPrivileges) {
		out.kind = append(out.kind, ErrPrivileges)
	}
	return out
}

// sqlState returns the SQLSTATE of a server error in err's chain, or "".
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// isAuthError reports a rejected login: class 28 (invalid authorization
// specification: wrong password, NOLOGIN, no pg_hba.conf entry).
func isAuthError(err error) bool { return strings.HasPrefix(sqlState(err), "28") }
