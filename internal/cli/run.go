package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

type runOptions struct {
	preserveEnv bool
	version     int64
}

func newRunCommand(a *App) *cobra.Command {
	var o runOptions
	cmd := &cobra.Command{
		Use:   "run [--preserve-env] -- CMD [ARGS…]",
		Short: "Run a command with the environment's variables",
		Long: `run starts CMD with the environment's variables added to its environment
(never to its arguments). By default the environment's values override
variables of the same name that are already set; with --preserve-env the
existing ones win. SIGINT, SIGTERM and SIGHUP are forwarded to CMD, and its
exit status is passed through (128+N when it dies of signal N). As PID 1 (in
a container) run also reaps orphaned processes. Every run is recorded in the
audit log.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runRun(cmd, a, o, args) },
	}
	cmd.Flags().BoolVar(&o.preserveEnv, "preserve-env", false, "keep variables already set in the environment instead of overriding them")
	cmd.Flags().Int64Var(&o.version, "version", 0, "run with environment version N")
	cmd.Flags().SetInterspersed(false)
	return cmd
}

func runRun(cmd *cobra.Command, a *App, o runOptions, args []string) error {
	path, err := exec.LookPath(args[0])
	if err != nil {
		return exitWith(127, fmt.Errorf("run: %w", err))
	}
	env, err := a.OpenEnv(cmd.Context(), true)
	if err != nil {
		return err
	}
	pairs, _, err := env.Values(cmd.Context(), o.version, "run")
	if err != nil {
		return err
	}
	a.Close() // release the store before the child runs

	base := os.Environ()
	present := make(map[string]bool, len(base))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		present[k] = true
	}
	environ := make([]string, 0, len(base)+len(pairs))
	override := map[string]bool{}
	for _, p := range pairs {
		if o.preserveEnv && present[p.Name] {
			continue
		}
		override[p.Name] = true
		environ = append(environ, p.Name+"="+p.Value.Reveal())
	}
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if !override[k] {
			environ = append(environ, kv)
		}
	}
	return supervise(a, path, args, environ)
}

// supervise runs the child, forwarding signals, and returns an exitError
// carrying the child's status.
func supervise(a *App, path string, args, environ []string) error {
	child := &exec.Cmd{Path: path, Args: args, Env: environ, Stdin: a.Stdin, Stdout: a.Stdout, Stderr: a.Stderr}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
	defer signal.Stop(sigs)
	if err := child.Start(); err != nil {
		return exitWith(126, fmt.Errorf("run %s: %w", args[0], err))
	}
	done := make(chan error, 1)
	go func() { done <- child.Wait() }()
	reap := os.Getpid() == 1
	var reapTick <-chan os.Signal
	if reap {
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGCHLD)
		reapTick = c
	}
	for {
		select {
		case s := <-sigs:
			_ = child.Process.Signal(s)
		case <-reapTick:
			reapOrphans(child.Process.Pid)
		case err := <-done:
			return childExit(err)
		}
	}
}

// reapOrphans collects exited processes other than the child (which Wait
// collects), as an init process must.
func reapOrphans(childPid int) {
	for {
		var ws syscall.WaitStatus
		// Only reap processes that are not our direct child: peek first.
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG|syscall.WNOWAIT, nil)
		if err != nil || pid <= 0 || pid == childPid {
			return
		}
		_, _ = syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
	}
}

func childExit(err error) error {
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return exitWith(128+int(ws.Signal()), nil)
		}
		return exitWith(ee.ExitCode(), nil)
	}
	return exitWith(ExitError, fmt.Errorf("run: %w", err))
}
