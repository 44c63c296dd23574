package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/slickenv/slickenv/internal/config"
	"github.com/slickenv/slickenv/internal/environment"
	"github.com/slickenv/slickenv/internal/status"
	"github.com/slickenv/slickenv/internal/store"
)

type statusOptions struct {
	all    bool
	json   bool
	failOn string
}

func newStatusCommand(a *App) *cobra.Command {
	var o statusOptions
	cmd := &cobra.Command{
		Use:   "status [-e ENV | --all] [--json] [--fail-on warn|expired]",
		Short: "Show the age of every secret against the rotation policy",
		Long: `status lists every variable with its age (time since its current value first
entered the environment), the policy verdict (✓ within policy, ⚠ past
warn_after, ✗ past max_age) and its provider ("manual" when none is
configured). Policies come from .slickenv.yaml: policy.warn_after and
policy.max_age for the project, max_age and warn_after per secret.

With --fail-on warn|expired, status exits 7 when any variable is at or past
that level, for CI gates. It reads no values and needs no identity.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runStatus(cmd, a, o) },
	}
	cmd.Flags().BoolVar(&o.all, "all", false, "every environment of the project")
	cmd.Flags().BoolVar(&o.json, "json", false, "print as JSON")
	cmd.Flags().StringVar(&o.failOn, "fail-on", "", "exit 7 when any variable is at or past this level: warn or expired")
	return cmd
}

type envStatus struct {
	env     string
	version int64
	rows    []status.Row
}

func runStatus(cmd *cobra.Command, a *App, o statusOptions) error {
	var failLevel status.Verdict
	if o.failOn != "" {
		lvl, err := status.ParseLevel(o.failOn)
		if err != nil {
			return &usageError{msg: err.Error()}
		}
		failLevel = lvl
	}
	if o.all && a.envFlag != "" {
		return usageErrorf("use either --all or -e, not both")
	}
	cfg, err := a.Config()
	if err != nil {
		return err
	}
	names := []string{}
	if o.all {
		st, err := a.Store(cmd.Context())
		if err != nil {
			return err
		}
		envs, err := st.Envs(cmd.Context(), cfg.Project)
		if err != nil {
			return err
		}
		for _, e := range envs {
			names = append(names, e.Name)
		}
	} else {
		n, err := a.EnvName()
		if err != nil {
			return err
		}
		names = append(names, n)
	}
	now := time.Now()
	policyFor := func(name string) status.Policy {
		p := cfg.SecretPolicy(name)
		return status.Policy{WarnAfter: p.WarnAfter.Std(), MaxAge: p.MaxAge.Std()}
	}
	var all []envStatus
	worst := status.OK
	for _, name := range names {
		st, err := a.Store(cmd.Context())
		if err != nil {
			return err
		}
		env, err := environment.Open(cmd.Context(), st, cfg.Project, name, a.Actor())
		if err != nil {
			return err
		}
		vars, v, err := env.Variables(cmd.Context(), 0)
		if err != nil {
			return err
		}
		rots, err := st.Rotations(cmd.Context(), env.ID(), 0)
		if err != nil {
			return err
		}
		latest := map[string]store.Rotation{}
		for _, r := range rots { // newest first
			if _, seen := latest[r.Name]; !seen {
				latest[r.Name] = r
			}
		}
		svars := make([]status.Var, len(vars))
		for i, x := range vars {
			svars[i] = status.Var{Name: x.Name, Since: x.Since, Provider: providerOf(cfg, x.Name)}
			if r, ok := latest[x.Name]; ok {
				svars[i].LastRotation = r.UpdatedAt.Local().Format("2006-01-02 15:04")
				svars[i].LastRotationOutcome = rotationOutcome(r)
			}
		}
		rows := status.Rows(now, svars, policyFor)
		if w := status.Worst(rows); w > worst {
			worst = w
		}
		all = append(all, envStatus{env: name, version: v.Version, rows: rows})
	}
	if o.json {
		out := make([]map[string]any, 0, len(all))
		for _, es := range all {
			rows := make([]map[string]any, len(es.rows))
			for i, r := range es.rows {
				rows[i] = map[string]any{
					"name": r.Name, "since": timeJSON(r.Since), "age_seconds": int64(r.Age.Seconds()),
					"verdict": r.Verdict.String(), "warn_after": config.Duration(r.Policy.WarnAfter).String(),
					"max_age": config.Duration(r.Policy.MaxAge).String(), "provider": r.Provider, "exposed": r.Exposed,
					"last_rotation": r.LastRotation, "last_rotation_outcome": r.LastRotationOutcome,
				}
			}
			out = append(out, map[string]any{"env": es.env, "version": es.version, "variables": rows})
		}
		if err := writeJSON(a.Stdout, map[string]any{"project": cfg.Project, "environments": out, "worst": worst.String()}); err != nil {
			return err
		}
	} else {
		renderStatus(a, all)
	}
	if o.failOn != "" && worst >= failLevel && len(all) > 0 {
		return exitWith(ExitFindings, fmt.Errorf("policy: at least one secret is %s (--fail-on %s)", worst, o.failOn))
	}
	return nil
}

// rotationOutcome names a rotation's result for status: done, rolled back,
// awaiting approval, or unfinished (state).
func rotationOutcome(r store.Rotation) string {
	switch r.State {
	case store.RotationDone:
		return "done"
	case store.RotationRolledBack:
		return "rolled back"
	case "awaiting_approval":
		return "awaiting approval"
	}
	return "unfinished (" + r.State + ")"
}

func providerOf(cfg *config.Config, name string) string {
	if s, ok := cfg.Secrets[name]; ok && s.Provider != "" {
		return s.Provider
	}
	return "manual"
}

func renderStatus(a *App, all []envStatus) {
	for i, es := range all {
		if i > 0 {
			fmt.Fprintln(a.Stdout)
		}
		if len(es.rows) == 0 {
			fmt.Fprintf(a.Stdout, "%s (v%d): no variables\n", es.env, es.version)
			continue
		}
		fmt.Fprintf(a.Stdout, "%s (v%d)\n", es.env, es.version)
		tw := newTable(a.Stdout, "", "NAME", "AGE", "POLICY", "PROVIDER", "LAST ROTATION")
		counts := map[status.Verdict]int{}
		for _, r := range es.rows {
			counts[r.Verdict]++
			last := "-"
			if r.LastRotation != "" {
				last = r.LastRotation + " " + r.LastRotationOutcome
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Verdict.Symbol(), r.Name, status.HumanAge(r.Age), policyText(r), r.Provider, last)
		}
		tw.Flush()
		fmt.Fprintf(a.Stdout, "%d ok, %d due (past warn_after), %d expired (past max_age)\n", counts[status.OK], counts[status.Warn], counts[status.Expired])
	}
}

func policyText(r status.Row) string {
	switch r.Verdict {
	case status.Expired:
		return "expired (max " + config.Duration(r.Policy.MaxAge).String() + ")"
	case status.Warn:
		return "due (warn " + config.Duration(r.Policy.WarnAfter).String() + ", max " + config.Duration(r.Policy.MaxAge).String() + ")"
	}
	if r.Policy.MaxAge == 0 {
		return "ok (no limit)"
	}
	return "ok (max " + config.Duration(r.Policy.MaxAge).String() + ")"
}
