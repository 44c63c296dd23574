package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"time"

	"github.com/slickenv/slickenv/internal/environment"
	"github.com/slickenv/slickenv/internal/supervise"
	"github.com/spf13/cobra"
)

type runOptions struct {
	preserveEnv  bool
	version      int64
	watch        bool
	listen       string
	readyURL     string
	readyTimeout time.Duration
	drainTimeout time.Duration
	signal       string
	envFile      string
	poll         time.Duration
	execShim     bool // hidden: the socket-activation exec shim (supervise.ExecWithListenPID)
}

func newRunCommand(a *App) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run [--watch [--listen ADDR | --signal SIG --env-file PATH]] [--preserve-env] -- CMD [ARGS…]",
		Short: "Run a command with the environment's variables",
		Long: `run starts CMD with the environment's variables added to its environment
(never to its arguments). By default the environment's values override
variables of the same name that are already set; with --preserve-env the
existing ones win. SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and SIGUSR2 are
forwarded to CMD, and its exit status is passed through (128+N when it dies
of signal N). As PID 1 (in a container) run also reaps orphaned processes.
Every read of the values is recorded in the audit log.

With --watch, run checks the store every --poll for a new version of the
environment and switches CMD to it:

  --listen ADDR   run owns the listening TCP socket and passes it to CMD by
                  systemd socket activation (fd 3, LISTEN_FDS, LISTEN_PID).
                  On a new version it starts a second CMD, waits until that
                  one accepts a connection (and answers --ready-url with a
                  2xx, when given), then sends SIGTERM to the old one and
                  waits --drain-timeout before SIGKILL. If the new CMD exits
                  or is not ready within --ready-timeout, it is stopped and
                  the old one keeps serving.
  --signal SIG --env-file PATH
                  rewrite PATH (dotenv, mode 0600) and send SIG to CMD, for
                  programs that reload in place.
  otherwise       SIGTERM, wait --drain-timeout, start CMD again.

See docs/run.md.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runRun(cmd, a, o, args) },
	}
	f := cmd.Flags()
	f.BoolVar(&o.preserveEnv, "preserve-env", false, "keep variables already set in the environment instead of overriding them")
	f.Int64Var(&o.version, "version", 0, "run with environment version N")
	f.BoolVar(&o.watch, "watch", false, "switch the command to each new version of the environment")
	f.StringVar(&o.listen, "listen", "", "own the listening TCP socket ADDR and hand it to the command (systemd socket activation)")
	f.StringVar(&o.readyURL, "ready-url", "", "with --listen: a path or URL the new command must answer with a 2xx before it takes over")
	f.DurationVar(&o.readyTimeout, "ready-timeout", supervise.DefaultReadyTimeout, "with --listen: how long a new command may take to become ready")
	f.DurationVar(&o.drainTimeout, "drain-timeout", supervise.DefaultDrainTimeout, "how long a stopped command may take to exit before SIGKILL")
	f.StringVar(&o.signal, "signal", "", "with --watch and --env-file: reload by sending this signal (HUP, USR1, USR2) instead of restarting")
	f.StringVar(&o.envFile, "env-file", "", "with --signal: the dotenv file to rewrite on each new version")
	f.DurationVar(&o.poll, "poll", supervise.DefaultPoll, "with --watch: how often to check for a new version")
	f.BoolVar(&o.execShim, "exec-listen-shim", false, "")
	_ = f.MarkHidden("exec-listen-shim")
	f.SetInterspersed(false)
	return cmd
}

func (o runOptions) check(cmd *cobra.Command) error {
	changed := func(name string) bool { return cmd.Flags().Changed(name) }
	switch {
	case o.watch && o.version != 0:
		return usageErrorf("--watch follows the newest version; it cannot be combined with --version")
	case !o.watch && (changed("signal") || changed("poll") || changed("ready-url") || changed("ready-timeout") || changed("drain-timeout")):
		return usageErrorf("--signal, --poll, --ready-url, --ready-timeout and --drain-timeout need --watch")
	case (o.signal != "") != (o.envFile != ""):
		return usageErrorf("--signal and --env-file go together")
	case o.signal != "" && o.listen != "":
		return usageErrorf("choose --listen (handoff) or --signal (reload), not both")
	case (o.readyURL != "" || changed("ready-timeout")) && o.listen == "":
		return usageErrorf("--ready-url and --ready-timeout need --listen")
	case o.poll <= 0 || o.readyTimeout <= 0 || o.drainTimeout <= 0:
		return usageErrorf("--poll, --ready-timeout and --drain-timeout must be positive")
	}
	return nil
}

func runRun(cmd *cobra.Command, a *App, o runOptions, args []string) error {
	if o.execShim {
		// We are the exec shim between the supervisor and the command.
		return exitWith(127, supervise.ExecWithListenPID(args[0], args[1:]))
	}
	if err := o.check(cmd); err != nil {
		return err
	}
	path, err := exec.LookPath(args[0])
	if err != nil {
		return exitWith(127, fmt.Errorf("run: %w", err))
	}
	ctx := cmd.Context()
	env, err := a.OpenEnv(ctx, true)
	if err != nil {
		return err
	}
	src := envSource{env}
	version := o.version
	if version == 0 {
		if version, err = src.Head(ctx); err != nil {
			return err
		}
	}
	values, err := src.Values(ctx, version)
	if err != nil {
		return err
	}
	so := supervise.Options{
		Path: path, Args: args, Env: os.Environ(), PreserveEnv: o.preserveEnv,
		Version: version, Values: values,
		ReadyURL: o.readyURL, ReadyTimeout: o.readyTimeout, DrainTimeout: o.drainTimeout,
		EnvFile: o.envFile, Poll: o.poll,
		Stdin: fileOr(a.Stdin, os.Stdin), Stdout: fileOr(a.Stdout, os.Stdout), Stderr: fileOr(a.Stderr, os.Stderr),
		Log: a.Stderr,
	}
	if o.watch {
		so.Source = src // the store stays open: each poll is one small query
	} else {
		a.Close() // release the store before the child runs
	}
	if o.signal != "" {
		if so.ReloadSignal, err = supervise.ParseSignal(o.signal); err != nil {
			return usageErrorf("--signal: %v", err)
		}
	}
	if o.listen != "" {
		ln, err := supervise.Listen(o.listen)
		if err != nil {
			return fmt.Errorf("run: %w", err)
		}
		defer ln.Close()
		so.Listener, so.Shim = ln, shimCommand()
		fmt.Fprintf(a.Stderr, "slickenv: run: listening on %s\n", ln.Addr())
	}
	s, err := supervise.New(so)
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	code, err := s.Run(ctx)
	if errors.Is(err, supervise.ErrStart) {
		return exitWith(126, fmt.Errorf("run: %w", err))
	}
	if err != nil {
		return fmt.Errorf("run: %w", err)
	}
	return exitWith(code, nil)
}

// shimCommand is how the supervisor re-executes slickenv as the exec shim.
// /proc/self/exe names this very binary even after it was replaced on disk.
func shimCommand() []string {
	exe := "/proc/self/exe"
	if _, err := os.Stat(exe); err != nil {
		if exe, err = os.Executable(); err != nil {
			exe = os.Args[0]
		}
	}
	return []string{exe, "run", "--exec-listen-shim", "--"}
}

func fileOr(v any, def *os.File) *os.File {
	if f, ok := v.(*os.File); ok {
		return f
	}
	return def
}

// envSource is the store as a supervise.Source.
type envSource struct{ env *environment.Env }

func (s envSource) Head(ctx context.Context) (int64, error) {
	v, err := s.env.Head(ctx)
	return v.Version, err
}

// Values reads version with a "run" audit entry.
func (s envSource) Values(ctx context.Context, version int64) ([]supervise.Pair, error) {
	pairs, _, err := s.env.Values(ctx, version, "run")
	if err != nil {
		return nil, err
	}
	out := make([]supervise.Pair, len(pairs))
	for i, p := range pairs {
		out[i] = supervise.Pair{Name: p.Name, Value: p.Value}
	}
	return out, nil
}
