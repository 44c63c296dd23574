package exec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/slickenv/slickenv/internal/config"
	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/secret"
)

// Limits on what slickenv keeps of a command's output.
const (
	maxStdout      = 1 << 20  // create's value or JSON; more is an error
	stderrKeep     = 64 << 10 // the tail kept for error messages
	stderrLines    = 20       // lines of stderr shown in an error
	stderrLineCap  = 512      // bytes per line shown
	waitDelay      = 2 * time.Second
	minRedactLen   = 8 // shorter env values and stdout lines are not redacted from stderr
	redactedMarker = secret.Redacted
)

// Environment variables slickenv sets for a command.
const (
	envAction     = "SLICKENV_ACTION"
	envRotationID = "SLICKENV_ROTATION_ID"
	envEnv        = "SLICKENV_ENV"
	envName       = "SLICKENV_NAME"
	envNewValue   = "SLICKENV_NEW_VALUE"
	envOldValue   = "SLICKENV_OLD_VALUE"
	envMeta       = "SLICKENV_META"
	envMetaPrefix = "SLICKENV_META_"
)

// reserved reports whether name is set (or removed) by slickenv.
func reserved(name string) bool {
	switch name {
	case envAction, envRotationID, envEnv, envName, envNewValue, envOldValue, envMeta:
		return true
	}
	return strings.HasPrefix(name, envMetaPrefix)
}

// invocation is one run of a command.
type invocation struct {
	action   string
	argv     []string
	call     provider.Call
	newValue *secret.Value // SLICKENV_NEW_VALUE when non-nil
	oldValue *secret.Value // SLICKENV_OLD_VALUE when non-nil
	stdin    secret.Value
	meta     map[string]string
}

// CommandError is a command that did not exit with status 0.
type CommandError struct {
	Action   string        // create, test or revoke
	Program  string        // argv[0]; the arguments are not reported
	ExitCode int           // the exit status; -1 when killed by a signal
	Signal   string        // the signal that killed it, e.g. "SIGKILL"; "" otherwise
	TimedOut bool          // killed because it ran past Timeout
	Timeout  time.Duration // the timeout setting
	// Stderr is the last lines the command wrote to stderr, with every
	// known value replaced by **redacted**.
	Stderr string
}

func (e *CommandError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "exec: %s: %s ", e.Action, e.Program)
	switch {
	case e.TimedOut:
		fmt.Fprintf(&b, "timed out after %s and was killed with its process group", config.Duration(e.Timeout))
	case e.Signal != "":
		fmt.Fprintf(&b, "was killed by %s", e.Signal)
	default:
		fmt.Fprintf(&b, "exited with status %d", e.ExitCode)
	}
	if e.Stderr == "" {
		b.WriteString(" (no stderr)")
		return b.String()
	}
	b.WriteString("; stderr:")
	for _, line := range strings.Split(e.Stderr, "\n") {
		b.WriteString("\n  | ")
		b.WriteString(line)
	}
	return b.String()
}

// run runs inv and returns its stdout, or an error that contains no value:
// a *CommandError for a non-zero exit, a timeout or a kill; a wrapped
// context error when ctx ends first.
func (p *Provider) run(ctx context.Context, inv invocation) ([]byte, error) {
	runCtx, cancel := context.WithTimeout(ctx, p.s.timeout)
	defer cancel()

	cmd := osexec.CommandContext(runCtx, inv.argv[0], inv.argv[1:]...)
	cmd.Dir = p.workDir(inv.call)
	cmd.Env = p.environ(inv)
	if !inv.stdin.IsEmpty() {
		input := inv.stdin.RevealBytes()
		defer clear(input)
		cmd.Stdin = bytes.NewReader(input)
	}
	stdout := &limitedBuffer{max: maxStdout}
	stderr := &tailBuffer{keep: stderrKeep}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// Its own process group, so that a timeout kills whatever the script
	// started too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A grandchild holding stdout or stderr open must not hang the rotation.
	cmd.WaitDelay = waitDelay

	if err := cmd.Start(); err != nil {
		// The error names the program and the reason (not found, not
		// executable); argv holds no values.
		return nil, fmt.Errorf("exec: %s: start %s: %w", inv.action, inv.argv[0], unwrapStartError(err))
	}
	err := cmd.Wait()
	// Leave nothing behind: the group may hold processes with values in
	// their environment. The group id cannot be reused while any member
	// lives; ESRCH when none is left is the usual outcome.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)

	if stdout.overflow {
		return nil, fmt.Errorf("exec: %s: %s printed more than %d bytes to stdout", inv.action, inv.argv[0], maxStdout)
	}
	if errors.Is(err, osexec.ErrWaitDelay) && cmd.ProcessState.Success() {
		// The command succeeded; a leftover process held a pipe open.
		err = nil
	}
	if err == nil {
		return stdout.buf.Bytes(), nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("exec: %s: %s: %w", inv.action, inv.argv[0], context.Cause(ctx))
	}
	ce := &CommandError{
		Action:   inv.action,
		Program:  inv.argv[0],
		ExitCode: -1,
		Timeout:  p.s.timeout,
		TimedOut: errors.Is(runCtx.Err(), context.DeadlineExceeded),
		Stderr:   stderrTail(stderr.Bytes(), stderr.truncated, redactions(inv, stdout.buf.Bytes(), p.s.env)),
	}
	var exitErr *osexec.ExitError
	if errors.As(err, &exitErr) {
		ce.ExitCode = exitErr.ExitCode()
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			ce.Signal = signalName(ws.Signal())
		}
	} else if !ce.TimedOut {
		return nil, fmt.Errorf("exec: %s: %s: %w", inv.action, inv.argv[0], err)
	}
	clear(stdout.buf.Bytes())
	return nil, ce
}

// unwrapStartError drops the *PathError's repetition of the path.
func unwrapStartError(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// workDir resolves the dir setting against the project directory.
func (p *Provider) workDir(call provider.Call) string {
	dir := p.s.dir
	switch {
	case dir == "":
		return call.ProjectDir
	case filepath.IsAbs(dir) || call.ProjectDir == "":
		return dir
	default:
		return filepath.Join(call.ProjectDir, dir)
	}
}

// environ builds the command's environment: slickenv's own without the
// reserved names, the env setting, then the contract's variables.
func (p *Provider) environ(inv invocation) []string {
	env := slices.DeleteFunc(os.Environ(), func(kv string) bool {
		name, _, _ := strings.Cut(kv, "=")
		return reserved(name) || slices.ContainsFunc(p.s.env, func(v envVar) bool { return v.name == name })
	})
	for _, v := range p.s.env {
		env = append(env, v.name+"="+v.value)
	}
	env = append(env,
		envAction+"="+inv.action,
		envRotationID+"="+inv.call.RotationID,
		envEnv+"="+inv.call.Env,
		envName+"="+inv.call.Name,
	)
	if inv.newValue != nil {
		env = append(env, envNewValue+"="+inv.newValue.Reveal())
	}
	if inv.oldValue != nil {
		env = append(env, envOldValue+"="+inv.oldValue.Reveal())
	}
	meta := inv.meta
	if meta == nil {
		meta = map[string]string{}
	}
	metaJSON, _ := json.Marshal(meta) // a map[string]string always marshals
	env = append(env, envMeta+"="+string(metaJSON))
	keys := make([]string, 0, len(meta))
	for k := range meta {
		keys = append(keys, k)
	}
	slices.Sort(keys) // for colliding names, the last key in order wins
	for _, k := range keys {
		env = append(env, envMetaPrefix+MetaEnvName(k)+"="+meta[k])
	}
	return env
}

// MetaEnvName is the suffix of the SLICKENV_META_ variable for metadata key
// k: k upper-cased, every character outside [A-Z0-9_] replaced by '_'.
func MetaEnvName(k string) string {
	b := []byte(strings.ToUpper(k))
	for i, c := range b {
		if !('A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// redactions lists what must not appear in an error: the old and new
// values, the env setting's values (often resolved secrets) and, because a
// failed create may have printed its new value, create's stdout lines.
func redactions(inv invocation, stdout []byte, env []envVar) []string {
	var out []string
	add := func(s string) {
		if s == "" {
			return
		}
		out = append(out, s)
		// A multi-line value (a PEM key) may reach stderr cut off at the top
		// of the kept tail; redact its lines one by one too.
		if strings.Contains(s, "\n") {
			for _, line := range strings.Split(s, "\n") {
				if line = strings.TrimSpace(line); len(line) >= minRedactLen {
					out = append(out, line)
				}
			}
		}
	}
	for _, v := range []*secret.Value{inv.newValue, inv.oldValue} {
		if v != nil {
			add(v.Reveal())
		}
	}
	add(inv.stdin.Reveal())
	for _, v := range env {
		// Short ones ("1", "true") are settings rather than secrets, and
		// replacing them everywhere would garble the message.
		if len(v.value) >= minRedactLen {
			add(v.value)
		}
	}
	if inv.action == ActionCreate {
		if parsed, err := decodeCreateJSON(stdout); err == nil && parsed.Value != nil {
			add(*parsed.Value)
		}
		for _, line := range strings.Split(string(stdout), "\n") {
			if line = strings.TrimSpace(line); len(line) >= minRedactLen {
				out = append(out, line)
			}
		}
	}
	// Longest first, so that a value containing another is replaced whole.
	slices.SortFunc(out, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	return slices.Compact(out)
}

// stderrTail returns the last stderrLines lines of stderr with every
// redaction replaced. When the kept tail was truncated its first, partial
// line is dropped before redacting, so a value cut in half cannot escape.
func stderrTail(stderr []byte, truncated bool, redact []string) string {
	s := string(stderr)
	if truncated {
		if i := strings.IndexByte(s, '\n'); i >= 0 {
			s = s[i+1:]
		} else {
			s = ""
		}
	}
	for _, r := range redact {
		s = strings.ReplaceAll(s, r, redactedMarker)
	}
	s = strings.TrimRight(s, "\n")
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > stderrLines {
		lines = lines[len(lines)-stderrLines:]
	}
	for i, line := range lines {
		line = strings.TrimSuffix(line, "\r")
		if len(line) > stderrLineCap {
			cut := stderrLineCap
			for cut > 0 && !utf8.RuneStart(line[cut]) {
				cut--
			}
			line = line[:cut] + "…"
		}
		lines[i] = line
	}
	return strings.Join(lines, "\n")
}

// limitedBuffer keeps up to max bytes and records whether more came.
type limitedBuffer struct {
	buf      bytes.Buffer
	max      int
	overflow bool
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	if room := b.max - b.buf.Len(); len(p) > room {
		b.buf.Write(p[:max(room, 0)])
		b.overflow = true
		return len(p), nil
	}
	return b.buf.Write(p)
}

// tailBuffer keeps the last keep bytes written to it.
type tailBuffer struct {
	buf       []byte
	keep      int
	truncated bool
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	n := len(p)
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.keep; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
		b.truncated = true
	}
	return n, nil
}

func (b *tailBuffer) Bytes() []byte { return b.buf }

func signalName(sig syscall.Signal) string {
	switch sig {
	case syscall.SIGKILL:
		return "SIGKILL"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	case syscall.SIGABRT:
		return "SIGABRT"
	case syscall.SIGSEGV:
		return "SIGSEGV"
	case syscall.SIGPIPE:
		return "SIGPIPE"
	case syscall.SIGBUS:
		return "SIGBUS"
	}
	return fmt.Sprintf("signal %d (%s)", int(sig), sig)
}
