package verify

import (
	"github.com/slickenv/slickenv/internal/command"

	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/slickenv/slickenv/internal/secret"
)

// DefaultCommandTimeout bounds one run of a command check when the context
// allows longer.
const DefaultCommandTimeout = 2 * time.Minute

// Variables a command check finds in its environment when set.
const (
	EnvRotationID = "SLICKENV_ROTATION_ID"
	EnvEnv        = "SLICKENV_ENV"
	EnvVersion    = "SLICKENV_VERSION"
)

// Command is the command check: a smoke test that must exit 0 every time it
// runs during the window. Create it with NewCommand (or FromConfig) and set
// the rotation fields before Run; Run does not modify it.
type Command struct {
	Argv  []string      // program and arguments; no shell
	Dir   string        // working directory; "" for the current one
	Every time.Duration // interval between runs; 0: at the start and the end of the window only
	// Timeout bounds each run; 0 means DefaultCommandTimeout.
	Timeout time.Duration

	// When set, exported to the command as SLICKENV_ROTATION_ID,
	// SLICKENV_ENV and SLICKENV_VERSION.
	RotationID string
	Env        string
	Version    int64
	// Redact lists values to hide from the stderr excerpt in errors (a smoke
	// script run with set -x prints what it reads).
	Redact []secret.Value
}

// NewCommand returns a command check running argv in dir every `every`.
//
// Run runs the command at the start of the window, then at every multiple
// of every, and always once more at the end of the window (with every = 0,
// only at the start and the end; a window of 0 means one run). Runs never
// overlap: a beat that passes while the command still runs is skipped. The
// check holds when every run exits 0; the first failing run ends it with an
// error naming the run, its exit code and the last lines of its stderr.
// Progress counts runs.
//
// The command gets slickenv's environment plus the rotation variables of
// Command, an empty stdin and no stdout; a run past its timeout or an
// interrupted window kills it and every process in its process group.
func NewCommand(argv []string, dir string, every time.Duration) Check {
	return &Command{Argv: argv, Dir: dir, Every: every}
}

// Describe implements Check.
func (c *Command) Describe() string { return "command " + command.DescribeArgv(c.Argv) }

func (c *Command) kind() string { return KindCommand }

// Run implements Check.
func (c *Command) Run(ctx context.Context, window time.Duration, progress func(Progress)) error {
	if progress == nil {
		progress = func(Progress) {}
	}
	if len(c.Argv) == 0 || c.Argv[0] == "" {
		return errors.New("command check: empty command")
	}
	var succeeded int
	start := time.Now()
	next := start
	for run := 1; ; run++ {
		if err := sleepUntil(ctx, next); err != nil {
			return fmt.Errorf("command check %s: %w", command.DescribeArgv(c.Argv), context.Cause(ctx))
		}
		at := time.Since(start)
		err := c.runOnce(ctx)
		if ctx.Err() != nil {
			return fmt.Errorf("command check %s: %w", command.DescribeArgv(c.Argv), context.Cause(ctx))
		}
		if err == nil {
			succeeded++
		}
		progress(Progress{Check: c.Describe(), Kind: KindCommand, Succeeded: succeeded, Total: run})
		if err != nil {
			return fmt.Errorf("command check %s: run %d (at %s): %w", command.DescribeArgv(c.Argv), run, at.Round(time.Millisecond), err)
		}
		elapsed := time.Since(start)
		if elapsed >= window {
			return nil
		}
		offset := window
		if c.Every > 0 {
			offset = min(window, (elapsed/c.Every+1)*c.Every)
		}
		next = start.Add(offset)
	}
}

func (c *Command) runOnce(ctx context.Context) error {
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultCommandTimeout
	}
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, command.TimeoutError{After: timeout})
	defer cancel()
	var add []string
	if c.RotationID != "" {
		add = append(add, EnvRotationID+"="+c.RotationID)
	}
	if c.Env != "" {
		add = append(add, EnvEnv+"="+c.Env)
	}
	if c.Version != 0 {
		add = append(add, EnvVersion+"="+strconv.FormatInt(c.Version, 10))
	}
	redact := make([]string, 0, len(c.Redact))
	for _, v := range c.Redact {
		redact = append(redact, v.Reveal())
	}
	p := command.Process{
		Argv:   c.Argv,
		Dir:    c.Dir,
		Env:    command.Environ([]string{EnvRotationID, EnvEnv, EnvVersion}, add...),
		Redact: redact,
	}
	return p.Run(ctx)
}
