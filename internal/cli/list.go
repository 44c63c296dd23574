package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/slickenv/slickenv/internal/status"
)

func newListCommand(a *App) *cobra.Command {
	var version int64
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List variable names, the version that last changed each, and their age (no values)",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			env, err := a.OpenEnv(cmd.Context(), false)
			if err != nil {
				return err
			}
			vars, v, err := env.Variables(cmd.Context(), version)
			if err != nil {
				return err
			}
			now := time.Now()
			if asJSON {
				rows := make([]map[string]any, len(vars))
				for i, x := range vars {
					rows[i] = map[string]any{
						"name": x.Name, "version": x.Version, "since": timeJSON(x.Since),
						"changed_at": timeJSON(x.ChangedAt), "age_seconds": int64(now.Sub(x.Since).Seconds()), "actor": x.Actor,
					}
				}
				return writeJSON(a.Stdout, map[string]any{"env": env.Name(), "version": v.Version, "variables": rows})
			}
			if len(vars) == 0 {
				fmt.Fprintf(a.Stdout, "%s is empty (v%d).\n", env.Name(), v.Version)
				return nil
			}
			tw := newTable(a.Stdout, "NAME", "VERSION", "AGE", "CHANGED")
			for _, x := range vars {
				fmt.Fprintf(tw, "%s\tv%d\t%s\t%s\n", x.Name, x.Version, status.HumanAge(now.Sub(x.Since)), when(x.ChangedAt))
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			fmt.Fprintf(a.Stdout, "%d %s in %s at v%d\n", len(vars), plural(len(vars), "variable", "variables"), env.Name(), v.Version)
			return nil
		},
	}
	cmd.Flags().Int64Var(&version, "version", 0, "list as of environment version N")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
