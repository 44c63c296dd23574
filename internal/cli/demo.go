package cli

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/slickenv/slickenv/examples/demoapp"
	"github.com/slickenv/slickenv/internal/demo"
)

type demoOptions struct {
	window time.Duration
	keep   bool
}

func newDemoCommand(a *App) *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo [--window 10s] [--keep]",
		Short: "Watch a secret rotate under live traffic, with nothing to set up",
		Long: `demo rotates a webhook signing key while a real service receives signed
requests, and shows that none of them fails.

In a throwaway directory with its own identity and store (yours are never
touched), it creates a project, starts the example webhook receiver
(examples/demoapp, run by this same binary), sends it signed webhooks
throughout, and runs ` + "`slickenv rotate WEBHOOK_SECRET`" + `: a new key is created,
written to the app's env file next to the old one, the app is told to reload
(SIGHUP), its health is checked for the whole window, and only then is the
old key revoked. The sender switches to the new key once the app accepts
both, as a real webhook sender would.

Afterwards it prints status, history and the audit log, the request totals
with every failure listed, and removes the directory (unless --keep). It
exits 1 when any signed request failed or the rotation did not finish.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runDemo(cmd, a, o) },
	}
	cmd.Flags().DurationVar(&o.window, "window", demo.DefaultWindow, "verification window of the rotation")
	cmd.Flags().BoolVar(&o.keep, "keep", false, "keep the throwaway project directory to look around")
	return cmd
}

func runDemo(cmd *cobra.Command, a *App, o demoOptions) error {
	if o.window < demo.MinWindow {
		return usageErrorf("--window %s is too short: the sender needs time to switch keys (minimum %s)", o.window, demo.MinWindow)
	}
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("demo: locate the slickenv binary: %w", err)
	}
	// Interrupted: stop the app and remove the directory before exiting.
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err = demo.Run(ctx, demo.Options{
		Self:    self,
		Out:     a.Stdout,
		Live:    isTerminal(a.Stdout) && a.Getenv("TERM") != "dumb",
		Window:  o.window,
		KeepDir: o.keep,
	})
	if errors.Is(err, demo.ErrFailed) {
		return exitWith(ExitError, err)
	}
	if err != nil && ctx.Err() != nil {
		return exitWith(130, errors.New("demo: interrupted"))
	}
	return err
}

type demoAppOptions struct {
	listen, envFile, pidFile string
}

// newDemoAppCommand is the example webhook receiver that `slickenv demo`
// starts by running its own binary: the demo needs nothing but slickenv.
func newDemoAppCommand(a *App) *cobra.Command {
	var o demoAppOptions
	cmd := &cobra.Command{
		Use:    "__demoapp [--listen ADDR] [--env-file FILE] [--pid-file FILE]",
		Short:  "Run the example webhook receiver (used by slickenv demo)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return demoapp.Run(cmd.Context(), demoapp.Options{
				Listen: o.listen, EnvFile: o.envFile, PidFile: o.pidFile,
				Stdout: a.Stdout, Stderr: a.Stderr,
			})
		},
	}
	cmd.Flags().StringVar(&o.listen, "listen", "127.0.0.1:8080", "address to serve on (ignored when socket-activated)")
	cmd.Flags().StringVar(&o.envFile, "env-file", "", "file holding WEBHOOK_SECRET[_PREVIOUS], re-read on SIGHUP (default: the environment)")
	cmd.Flags().StringVar(&o.pidFile, "pid-file", "", "write the process id to this file")
	return cmd
}
