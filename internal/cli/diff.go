package cli

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/slickenv/slickenv/internal/environment"
)

func newDiffCommand(a *App) *cobra.Command {
	var showValues, asJSON bool
	cmd := &cobra.Command{
		Use:   "diff [A [B]]",
		Short: "Show which variables differ between two versions",
		Long: `diff compares two versions of the environment by name and value.

  slickenv diff          # the previous version against the latest
  slickenv diff 12       # v12 against the latest
  slickenv diff 12 15    # v12 against v15

Values are masked unless --show-values is given (which is audited).
Versions may be written 12 or v12.`,
		Args: cobra.MaximumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var vs []int64
			for _, arg := range args {
				n, err := strconv.ParseInt(strings.TrimPrefix(arg, "v"), 10, 64)
				if err != nil || n < 0 {
					return usageErrorf("invalid version %q: want a number like 12 or v12", arg)
				}
				vs = append(vs, n)
			}
			env, err := a.OpenEnv(cmd.Context(), showValues)
			if err != nil {
				return err
			}
			head, err := env.Head(cmd.Context())
			if err != nil {
				return err
			}
			from, to := head.Version-1, head.Version
			switch len(vs) {
			case 1:
				from = vs[0]
			case 2:
				from, to = vs[0], vs[1]
			}
			if from < 0 {
				from = 0
			}
			entries, _, vb, err := env.Diff(cmd.Context(), from, to, showValues)
			if err != nil {
				return err
			}
			if asJSON {
				rows := make([]map[string]any, len(entries))
				for i, e := range entries {
					rows[i] = map[string]any{"name": e.Name, "change": string(e.Kind)}
					if showValues {
						if e.Kind != environment.Added {
							rows[i]["old"] = e.Old.Reveal()
						}
						if e.Kind != environment.Removed {
							rows[i]["new"] = e.New.Reveal()
						}
					}
				}
				return writeJSON(a.Stdout, map[string]any{"env": env.Name(), "from": from, "to": vb.Version, "changes": rows})
			}
			if len(entries) == 0 {
				fmt.Fprintf(a.Stdout, "No differences between v%d and v%d.\n", from, vb.Version)
				return nil
			}
			fmt.Fprintf(a.Stdout, "%s: v%d → v%d\n", env.Name(), from, vb.Version)
			for _, e := range entries {
				sym := map[environment.DiffKind]string{environment.Added: "+", environment.Removed: "-", environment.Changed: "~"}[e.Kind]
				switch {
				case !showValues:
					fmt.Fprintf(a.Stdout, "%s %s (%s)\n", sym, e.Name, e.Kind)
				case e.Kind == environment.Added:
					fmt.Fprintf(a.Stdout, "%s %s = %q\n", sym, e.Name, e.New.Reveal())
				case e.Kind == environment.Removed:
					fmt.Fprintf(a.Stdout, "%s %s (was %q)\n", sym, e.Name, e.Old.Reveal())
				default:
					fmt.Fprintf(a.Stdout, "%s %s: %q → %q\n", sym, e.Name, e.Old.Reveal(), e.New.Reveal())
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&showValues, "show-values", false, "print the old and new values (audited)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
