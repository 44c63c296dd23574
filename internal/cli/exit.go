package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/slickenv/slickenv/internal/client"
	"github.com/slickenv/slickenv/internal/config"
	"github.com/slickenv/slickenv/internal/crypto"
	"github.com/slickenv/slickenv/internal/dotenv"
	"github.com/slickenv/slickenv/internal/rotate"
	"github.com/slickenv/slickenv/internal/store"
)

// Exit codes (DESIGN §10).
const (
	ExitOK         = 0
	ExitError      = 1
	ExitUsage      = 2
	ExitNotFound   = 3
	ExitConflict   = 4
	ExitRolledBack = 5
	ExitUnfinished = 6
	ExitFindings   = 7
)

// exitError ends the process with a given code; its message (if any) is
// printed as an error.
type exitError struct {
	code int
	err  error // nil: print nothing
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// exitWith returns an error that exits with code, printing err when non-nil.
func exitWith(code int, err error) error { return &exitError{code: code, err: err} }

// hintError adds a "slickenv: hint:" line to an error.
type hintError struct {
	err  error
	hint string
}

func (h *hintError) Error() string { return h.err.Error() }
func (h *hintError) Unwrap() error { return h.err }

func withHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &hintError{err: err, hint: hint}
}

// usageError is a command-line mistake (exit 2).
type usageError struct{ msg string }

func (u *usageError) Error() string { return u.msg }

func usageErrorf(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// ExitCode maps an error to the process exit code. This is the one place
// where that mapping lives.
func ExitCode(err error) int {
	var ee *exitError
	var ue *usageError
	var pe *dotenv.ParseError
	var unfinished *rotate.UnfinishedError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue):
		return ExitUsage
	case errors.As(err, &unfinished):
		return ExitUnfinished
	case errors.Is(err, rotate.ErrRolledBack):
		return ExitRolledBack
	case errors.Is(err, store.ErrNotFound):
		return ExitNotFound
	case errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrLocked):
		return ExitConflict
	case errors.As(err, &pe), errors.Is(err, config.ErrNotFound), errors.Is(err, crypto.ErrNoAccess):
		return ExitError
	}
	return ExitError
}

// hints returns the hint lines carried by err (outermost first) plus hints
// derived from well-known errors.
func hints(err error) []string {
	var out []string
	for e := err; e != nil; e = errors.Unwrap(e) {
		if h, ok := e.(*hintError); ok {
			out = append(out, h.hint)
		}
	}
	if len(out) > 0 {
		return out
	}
	switch {
	case errors.Is(err, store.ErrConflict):
		out = append(out, "the environment changed while this command ran; check `slickenv history` and run it again")
	case errors.Is(err, store.ErrLocked):
		out = append(out, "another slickenv process held the store too long; run the command again")
	case errors.Is(err, store.ErrCorrupt):
		out = append(out, "restore the store file from a backup, or point SLICKENV_STORE at the right file")
	case errors.Is(err, store.ErrReadOnly):
		out = append(out, "slickenv records an audit entry for every read and write; make the store writable")
	case errors.Is(err, client.ErrUnauthorized):
		out = append(out, "log in again with `slickenv login URL`, or set SLICKENV_TOKEN")
	case errors.Is(err, client.ErrForbidden):
		out = append(out, "this token's role or scope does not allow that; ask a project admin")
	case errors.Is(err, crypto.ErrTampered):
		out = append(out, "a stored ciphertext was modified outside slickenv; run `slickenv audit verify` and restore from a backup")
	}
	return out
}

// printError writes "slickenv: error: …" and any hints.
func printError(w io.Writer, err error) {
	var ee *exitError
	if errors.As(err, &ee) && ee.err == nil {
		return
	}
	fmt.Fprintf(w, "slickenv: error: %v\n", err)
	for _, h := range hints(err) {
		fmt.Fprintf(w, "slickenv: hint: %s\n", h)
	}
}
