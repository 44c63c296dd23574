// Package command runs the user's commands for rotation targets and
// checks: no shell, stdin from /dev/null, stdout discarded, the tail of stderr
// kept (with secret values redacted) for the error, and a Process group of
// its own so that a cancellation or timeout kills everything it started.
package command

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/slickenv/slickenv/internal/secret"
)

// Limits of the stderr excerpt in a command's error.
const (
	StderrKeep  = 64 << 10 // bytes of stderr kept while the command runs
	stderrLines = 5        // lines shown in the error
	lineMax     = 240      // bytes per shown line
)

// waitDelay bounds how long Wait waits for a Process's pipes after it exited
// (a hook that started a daemon keeping stderr open) or for it to die after
// a kill.
const waitDelay = 2 * time.Second

// Process is one run of a command: no shell, stdin from /dev/null, stdout
// discarded, stderr's tail kept for the error, its own Process group so that
// a cancellation kills the command and everything it started.
type Process struct {
	Argv   []string
	Dir    string
	Env    []string
	Redact []string // strings replaced by secret.Redacted in the stderr excerpt
}

// run runs p until it exits or ctx is done. A non-zero exit is an error
// carrying the exit code (or the signal) and the last lines of stderr.
func (p Process) Run(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, p.Argv[0], p.Argv[1:]...)
	cmd.Dir = p.Dir
	cmd.Env = p.Env
	stderr := &TailBuffer{Max: StderrKeep}
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		// The negative pid addresses the whole Process group.
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	cmd.WaitDelay = waitDelay
	err := cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil && cmd.ProcessState != nil:
		return fmt.Errorf("%w, killed%s", context.Cause(ctx), stderr.Excerpt(p.Redact))
	case errors.As(err, &exitErr):
		return fmt.Errorf("%s%s", ExitDescription(exitErr), stderr.Excerpt(p.Redact))
	case errors.Is(err, exec.ErrWaitDelay):
		// It exited 0 but left something holding stderr: a daemon it started.
		return nil
	}
	var pathErr *os.PathError
	if errors.As(err, &pathErr) && pathErr.Op != "chdir" {
		err = fmt.Errorf("%s: %w", p.Argv[0], pathErr.Err)
	}
	return err
}

func ExitDescription(e *exec.ExitError) string {
	if ws, ok := e.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "killed by signal " + signalName(ws.Signal())
	}
	return "exit code " + strconv.Itoa(e.ExitCode())
}

// signalName returns the conventional name of s without "SIG" ("TERM").
func signalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGHUP:
		return "HUP"
	case syscall.SIGINT:
		return "INT"
	case syscall.SIGQUIT:
		return "QUIT"
	case syscall.SIGKILL:
		return "KILL"
	case syscall.SIGSEGV:
		return "SEGV"
	case syscall.SIGPIPE:
		return "PIPE"
	case syscall.SIGTERM:
		return "TERM"
	case syscall.SIGUSR1:
		return "USR1"
	case syscall.SIGUSR2:
		return "USR2"
	case syscall.SIGABRT:
		return "ABRT"
	}
	return s.String()
}

// TimeoutError is the cause of a context that a command's own timeout
// ended. It is a context.DeadlineExceeded for errors.Is.
type TimeoutError struct{ After time.Duration }

func (e TimeoutError) Error() string        { return "timed out after " + e.After.String() }
func (e TimeoutError) Is(target error) bool { return target == context.DeadlineExceeded }

// Environ returns the parent's environment without the names in drop, plus
// add ("NAME=value" strings).
func Environ(drop []string, add ...string) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return slices.Contains(drop, name)
	})
	return append(env, add...)
}

// DescribeArgv renders argv for humans, quoting arguments that need it.
func DescribeArgv(argv []string) string {
	parts := make([]string, len(argv))
	for i, a := range argv {
		if a == "" || strings.ContainsFunc(a, func(r rune) bool { return unicode.IsSpace(r) || r == '"' || r == '\'' || !unicode.IsPrint(r) }) {
			a = strconv.Quote(a)
		}
		parts[i] = a
	}
	return strings.Join(parts, " ")
}

// TailBuffer is an io.Writer that keeps the last max bytes written.
type TailBuffer struct {
	Max       int
	buf       []byte
	truncated bool
}

func (b *TailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.Max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
		b.truncated = true
	}
	return n, nil
}

// excerpt returns "; stderr: …" with the last few lines of stderr, every
// redact string replaced, control characters neutralised; "" when stderr
// was empty.
func (b *TailBuffer) Excerpt(redact []string) string {
	s := string(b.buf)
	redact = redactions(redact)
	if b.truncated {
		// A value cut at the start of the kept tail would escape
		// redaction: drop the leading piece of it.
		for _, r := range redact {
			for k := len(r) - 1; k > 0; k-- {
				if strings.HasPrefix(s, r[len(r)-k:]) {
					s = s[k:]
					break
				}
			}
		}
	}
	for _, r := range redact {
		s = strings.ReplaceAll(s, r, secret.Redacted)
	}
	if b.truncated {
		// The first line is cut anyway.
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		}
	}
	lines := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	lines = slices.DeleteFunc(lines, func(l string) bool { return strings.TrimSpace(l) == "" })
	if len(lines) == 0 {
		return ""
	}
	if len(lines) > stderrLines {
		lines = lines[len(lines)-stderrLines:]
	}
	for i, l := range lines {
		lines[i] = printable(l)
	}
	return "; stderr: " + strings.Join(lines, " / ")
}

// minLineRedact is the shortest line of a multi-line value that is
// redacted on its own.
const minLineRedact = 8

// redactions returns the non-empty values, plus the lines of multi-line
// values (a tool may print a PEM key line by line, or with CRLF), longest
// first so that a value containing another is replaced whole.
func redactions(values []string) []string {
	var out []string
	for _, v := range values {
		if v == "" {
			continue
		}
		out = append(out, v)
		if strings.ContainsAny(v, "\r\n") {
			for _, line := range strings.FieldsFunc(v, func(r rune) bool { return r == '\n' || r == '\r' }) {
				if len(strings.TrimSpace(line)) >= minLineRedact {
					out = append(out, strings.TrimSpace(line))
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return slices.Compact(out)
}

// printable makes a line safe to show on a terminal: control characters and
// invalid UTF-8 become U+FFFD, and it is cut to lineMax bytes.
func printable(s string) string {
	s = strings.TrimRightFunc(s, unicode.IsSpace)
	var b strings.Builder
	for i, r := range s {
		if b.Len() >= lineMax {
			b.WriteString("…")
			break
		}
		if r == utf8.RuneError && !strings.HasPrefix(s[i:], "\uFFFD") || r != '\t' && unicode.IsControl(r) {
			r = utf8.RuneError
		}
		b.WriteRune(r)
	}
	return b.String()
}
