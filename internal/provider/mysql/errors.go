package mysql

import (
	"context"
	"errors"
	"net/url"
	"strings"

	"github.com/go-sql-driver/mysql"
)

// Errors returned (wrapped) by the provider's methods.
var (
	// ErrAccessDenied: the server rejected a user name and password.
	ErrAccessDenied = errors.New("access denied")
	// ErrPrivileges: the admin account lacks a privilege slickenv needs.
	ErrPrivileges = errors.New("insufficient privileges")
	// ErrNoUser: the account to rotate does not exist.
	ErrNoUser = errors.New("no such account")
	// ErrUnsupported: the server version or the account's authentication
	// plugin cannot hold two passwords the way this provider needs.
	ErrUnsupported = errors.New("unsupported server or account")
	// ErrMismatch: the password in the variable is not the account's
	// password, so rotating would lock the application out.
	ErrMismatch = errors.New("password mismatch")
	// ErrLockout: the change asked for would leave no working password.
	ErrLockout = errors.New("refusing to leave the account without a working password")
)

// redactedError carries a driver error's text with every secret removed.
// It unwraps to a sentinel of this package (or a context error), never to
// the original error, whose text may quote a statement with a password.
type redactedError struct {
	msg  string
	kind error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.kind }

// redact returns err with every secret (raw, SQL-quoted and URL-encoded)
// replaced by "[redacted]". Server errors that echo a statement (syntax
// errors) lose their text entirely. nil stays nil.
func redact(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	var kind error
	var me *mysql.MySQLError
	switch {
	case errors.As(err, &me):
		kind = classify(me.Number)
		if me.Number == 1064 || me.Number == 1149 { // syntax errors quote the statement
			msg = "Error 1064: SQL syntax error (statement not shown: it may contain a password)"
		}
	case errors.Is(err, context.Canceled):
		kind = context.Canceled
	case errors.Is(err, context.DeadlineExceeded):
		kind = context.DeadlineExceeded
	}
	for _, s := range secrets {
		if s == "" {
			continue
		}
		for _, form := range []string{s, strings.ReplaceAll(s, "'", "''"), strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s), url.QueryEscape(s), url.PathEscape(s), escapeUserinfo(s)} {
			msg = strings.ReplaceAll(msg, form, "[redacted]")
		}
	}
	return &redactedError{msg: msg, kind: kind}
}

// classify maps server error numbers to this package's sentinels.
func classify(number uint16) error {
	switch number {
	case 1045, 1698, 3118, 4151: // access denied, no password, account locked (MySQL, MariaDB)
		return ErrAccessDenied
	case 1044, 1142, 1143, 1227, 1370: // db, table, column, specific and routine access denied
		return ErrPrivileges
	case 1396: // ER_CANNOT_USER: ALTER USER of a missing account
		return ErrNoUser
	}
	return nil
}

// isAccessDenied reports whether err is the server rejecting a login.
func isAccessDenied(err error) bool { return errors.Is(err, ErrAccessDenied) }
