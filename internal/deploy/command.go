package deploy

import (
	"github.com/slickenv/slickenv/internal/command"

	"context"
	"errors"
	"strconv"
	"time"
)

// DefaultCommandTimeout bounds one run of a command target when the context
// allows longer.
const DefaultCommandTimeout = 2 * time.Minute

// Variables a command target finds in its environment.
const (
	EnvRotationID = "SLICKENV_ROTATION_ID"
	EnvEnv        = "SLICKENV_ENV"
	EnvVersion    = "SLICKENV_VERSION"
)

type commandTarget struct {
	argv    []string
	dir     string
	timeout time.Duration
}

// NewCommand returns a target that runs argv, a deploy or restart hook such
// as [systemctl reload shop], in the working directory dir ("" for the
// current one). argv must not be empty. There is no shell: argv[0] is looked
// up in PATH unless it contains a slash, in which case a relative path is
// relative to dir.
//
// The command gets slickenv's environment plus SLICKENV_ROTATION_ID,
// SLICKENV_ENV and SLICKENV_VERSION (the environment version deployed), and
// without any variable named in the request's Set or Unset: values never
// reach a command's argv or environment, neither new ones nor inherited old
// ones. The command reloads the values from where the other targets put
// them. Its stdin is empty and its stdout discarded.
//
// Deploy fails when the command exits non-zero (the error has the exit code
// and the last lines of its stderr, with the request's values redacted),
// when it cannot start, or when it runs past the context's deadline or
// DefaultCommandTimeout, whichever is sooner; then the command and every
// process it started in its process group are killed. Deploy is as
// idempotent as the command is: hooks should be safe to run twice, as a
// reload is.
func NewCommand(argv []string, dir string) Target {
	return &commandTarget{argv: argv, dir: dir, timeout: DefaultCommandTimeout}
}

func (t *commandTarget) Describe() string { return "command " + command.DescribeArgv(t.argv) }

func (t *commandTarget) Deploy(ctx context.Context, req Request) error {
	if len(t.argv) == 0 || t.argv[0] == "" {
		return errors.New("empty command")
	}
	ctx, cancel := context.WithTimeoutCause(ctx, t.timeout, command.TimeoutError{After: t.timeout})
	defer cancel()
	drop := []string{EnvRotationID, EnvEnv, EnvVersion}
	redact := make([]string, 0, len(req.Set))
	for name, v := range req.Set {
		drop = append(drop, name)
		redact = append(redact, v.Reveal())
	}
	drop = append(drop, req.Unset...)
	p := command.Process{
		Argv: t.argv,
		Dir:  t.dir,
		Env: command.Environ(drop,
			EnvRotationID+"="+req.RotationID,
			EnvEnv+"="+req.Env,
			EnvVersion+"="+strconv.FormatInt(req.Version, 10),
		),
		Redact: redact,
	}
	return p.Run(ctx)
}
