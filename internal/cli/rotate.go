package cli

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/slickenv/slickenv/internal/config"
	"github.com/slickenv/slickenv/internal/environment"
	"github.com/slickenv/slickenv/internal/provider/all"
	"github.com/slickenv/slickenv/internal/rotate"
	"github.com/slickenv/slickenv/internal/status"
)

type rotateOptions struct {
	window  config.Duration
	dryRun  bool
	resume  bool
	abort   bool
	approve bool
	yes     bool
	json    bool
	due     bool
	force   bool
}

func newRotateCommand(a *App) *cobra.Command {
	var o rotateOptions
	cmd := &cobra.Command{
		Use:   "rotate NAME [-e ENV] [--window D] [--dry-run] [--resume | --abort | --approve] [--yes] [--json] | rotate --due",
		Short: "Rotate a secret with zero downtime: create, distribute, verify, then revoke the old one",
		Long: `rotate replaces a secret without breaking its consumers:

  [1/5] detect the provider adapter (secrets.NAME.provider in .slickenv.yaml)
  [2/5] create a new credential while the old one stays valid
  [3/5] write a new environment version and deploy it to the targets
  [4/5] verify real behaviour for the whole window (provider test + checks)
  [5/5] only then revoke the previous credential

If verification fails, the previous value comes back as a new version, the
targets are redeployed and the new credential is revoked (exit 5); the old
credential was never touched. Every step is journaled before it acts, so a
crash at any point leaves a rotation that --resume finishes or --abort rolls
back (exit 6 until then). The rollback steps are printed before the rotation
starts and recorded in the audit log.

--due rotates, one after another, every secret past its max_age that has a
provider configured. --dry-run prints the plan and the rollback steps and
changes nothing.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runRotate(cmd, a, o, args) },
	}
	f := cmd.Flags()
	f.Var(&o.window, "window", "verification window (overrides verify.window), e.g. 60s")
	f.BoolVar(&o.dryRun, "dry-run", false, "print the plan and the rollback steps; change nothing")
	f.BoolVar(&o.resume, "resume", false, "finish (or roll back) an unfinished rotation")
	f.BoolVar(&o.abort, "abort", false, "roll back an unfinished rotation")
	f.BoolVar(&o.approve, "approve", false, "approve a rotation waiting for approval (verify.approve: manual)")
	f.BoolVarP(&o.yes, "yes", "y", false, "do not ask for confirmation (production asks on a terminal)")
	f.BoolVar(&o.json, "json", false, "one JSON object per event on stdout")
	f.BoolVar(&o.due, "due", false, "rotate every secret past its max_age that has a provider")
	f.BoolVar(&o.force, "force-revoke", false, "when the drain times out, end the sessions still using the old credential instead of rolling back")
	return cmd
}

func runRotate(cmd *cobra.Command, a *App, o rotateOptions, args []string) error {
	modes := 0
	for _, b := range []bool{o.resume, o.abort, o.approve, o.dryRun, o.due} {
		if b {
			modes++
		}
	}
	if modes > 1 {
		return usageErrorf("use only one of --dry-run, --resume, --abort, --approve, --due")
	}
	if o.due {
		if len(args) > 0 {
			return usageErrorf("--due takes no NAME")
		}
		return runRotateDue(cmd, a, o)
	}
	if len(args) != 1 {
		return usageErrorf("rotate needs the NAME of the secret (or --due)")
	}
	return rotateOne(cmd, a, o, args[0])
}

func rotateOne(cmd *cobra.Command, a *App, o rotateOptions, name string) error {
	ctx := cmd.Context()
	cfg, err := a.Config()
	if err != nil {
		return err
	}
	env, err := a.OpenEnv(ctx, true)
	if err != nil {
		return err
	}
	r := newRotateRenderer(a, o.json)
	opts := rotate.Options{Env: env, Config: cfg, Name: name, Registry: all.Registry(), Reporter: r, ForceRevoke: o.force, Failpoint: a.Getenv("SLICKENV_FAILPOINT")}
	if cmdFlagChanged(cmd, "window") {
		w := o.window.Std()
		opts.Window = &w
	}
	eng := rotate.New(opts)
	if o.dryRun {
		plan, err := eng.Plan(ctx)
		if err != nil {
			return err
		}
		return renderPlan(a, plan, o.json)
	}
	if !o.yes && !o.resume && !o.abort && env.Name() == "production" && isTerminal(a.Stdout) && isTerminalReader(a.Stdin) {
		fmt.Fprintf(a.Stderr, "Rotate %s in production? [y/N] ", name)
		line, _ := bufio.NewReader(a.Stdin).ReadString('\n')
		if ans := strings.ToLower(strings.TrimSpace(line)); ans != "y" && ans != "yes" {
			return exitWith(ExitError, errors.New("rotation cancelled"))
		}
	}
	var outcome rotate.Outcome
	switch {
	case o.resume:
		outcome, err = eng.Resume(ctx)
	case o.abort:
		outcome, err = eng.Abort(ctx)
	case o.approve:
		outcome, err = eng.Approve(ctx)
	default:
		outcome, err = eng.Start(ctx)
	}
	r.finish(outcome, err)
	return rotateError(name, env, err)
}

// rotateError adds hints to rotation errors.
func rotateError(name string, env *environment.Env, err error) error {
	var ue *rotate.UnfinishedError
	var re *rotate.RunningError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ue) && ue.Rotation.State == rotate.StateAwaitingApproval:
		return withHint(err, fmt.Sprintf("it waits for approval with both credentials valid: run `slickenv rotate %s -e %s --approve` to revoke the previous one, or `--abort` to roll back", name, env.Name()))
	case errors.As(err, &ue):
		return withHint(err, fmt.Sprintf("run `slickenv rotate %s -e %s --resume` to finish it, or `--abort` to roll it back", name, env.Name()))
	case errors.As(err, &re):
		return withHint(err, "wait for it to finish; a crashed holder's lease expires by itself")
	case errors.Is(err, rotate.ErrRolledBack):
		return withHint(err, "the previous credential was never touched and is live again; see `slickenv audit` for every step")
	case errors.Is(err, rotate.ErrNotConfigured):
		return withHint(err, "see docs/rotation.md for provider settings")
	}
	return err
}

func cmdFlagChanged(cmd *cobra.Command, name string) bool {
	f := cmd.Flags().Lookup(name)
	return f != nil && f.Changed
}

func isTerminalReader(r any) bool {
	f, ok := r.(*os.File)
	return ok && isTerminal(f)
}

func renderPlan(a *App, plan rotate.Plan, asJSON bool) error {
	if asJSON {
		return writeJSON(a.Stdout, map[string]any{"event": "plan", "dry_run": true, "name": plan.Name, "env": plan.Env, "provider": plan.Provider, "steps": plan.Steps, "rollback": plan.Rollback})
	}
	fmt.Fprintf(a.Stdout, "Plan: rotate %s in %s with provider %s (dry run: nothing changes)\n", plan.Name, plan.Env, plan.Provider)
	for i, s := range plan.Steps {
		fmt.Fprintf(a.Stdout, "  %d. %s\n", i+1, s)
	}
	fmt.Fprintln(a.Stdout, "If verification fails, rollback:")
	for i, s := range plan.Rollback {
		fmt.Fprintf(a.Stdout, "  %d. %s\n", i+1, s)
	}
	return nil
}

// runRotateDue rotates every secret past max_age that has a provider.
func runRotateDue(cmd *cobra.Command, a *App, o rotateOptions) error {
	ctx := cmd.Context()
	cfg, err := a.Config()
	if err != nil {
		return err
	}
	env, err := a.OpenEnv(ctx, false)
	if err != nil {
		return err
	}
	vars, _, err := env.Variables(ctx, 0)
	if err != nil {
		return err
	}
	now := time.Now()
	var due []string
	for _, v := range vars {
		sec, ok := cfg.Secrets[v.Name]
		if !ok || sec.Provider == "" {
			continue
		}
		p := cfg.SecretPolicy(v.Name)
		if status.Evaluate(now.Sub(v.Since), status.Policy{WarnAfter: p.WarnAfter.Std(), MaxAge: p.MaxAge.Std()}) == status.Expired {
			due = append(due, v.Name)
		}
	}
	if len(due) == 0 {
		if !o.json {
			fmt.Fprintf(a.Stdout, "Nothing is due in %s: no secret with a provider is past its max_age.\n", env.Name())
		}
		return nil
	}
	type result struct {
		name string
		err  error
	}
	var results []result
	worst := 0
	for _, n := range due {
		if !o.json {
			fmt.Fprintf(a.Stdout, "\n== %s\n", n)
		}
		err := rotateOne(cmd, a, rotateOptions{window: o.window, yes: true, json: o.json, force: o.force}, n)
		results = append(results, result{n, err})
		if c := ExitCode(err); c > worst {
			worst = c
		}
		if err != nil && !o.json {
			printError(a.Stderr, err)
		}
	}
	if !o.json {
		fmt.Fprintf(a.Stdout, "\nSummary (%s):\n", env.Name())
		for _, r := range results {
			mark := "✓ rotated"
			if r.err != nil {
				mark = fmt.Sprintf("✗ exit %d", ExitCode(r.err))
			}
			fmt.Fprintf(a.Stdout, "  %-30s %s\n", r.name, mark)
		}
	}
	if worst != 0 {
		return exitWith(worst, nil)
	}
	return nil
}
