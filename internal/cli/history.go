package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

func newHistoryCommand(a *App) *cobra.Command {
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "history [KEY] [--limit N]",
		Short: "List the environment's versions, newest first (or those that changed KEY)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 0 {
				return usageErrorf("--limit must not be negative (0 shows all versions)")
			}
			env, err := a.OpenEnv(cmd.Context(), false)
			if err != nil {
				return err
			}
			name := ""
			if len(args) == 1 {
				name = args[0]
			}
			versions, err := env.History(cmd.Context(), name, limit)
			if err != nil {
				return err
			}
			if asJSON {
				rows := make([]map[string]any, len(versions))
				for i, v := range versions {
					names := v.Names
					if names == nil {
						names = []string{}
					}
					rows[i] = map[string]any{"version": v.Version, "at": timeJSON(v.CreatedAt), "actor": v.Actor, "kind": v.Kind, "message": v.Message, "names": names}
				}
				return writeJSON(a.Stdout, map[string]any{"env": env.Name(), "name": name, "versions": rows})
			}
			if len(versions) == 0 {
				if name != "" {
					fmt.Fprintf(a.Stdout, "%s has never been set in %s.\n", name, env.Name())
				} else {
					fmt.Fprintf(a.Stdout, "%s has no versions yet.\n", env.Name())
				}
				return nil
			}
			tw := newTable(a.Stdout, "VERSION", "WHEN", "KIND", "ACTOR", "CHANGED", "MESSAGE")
			for _, v := range versions {
				fmt.Fprintf(tw, "v%d\t%s\t%s\t%s\t%s\t%s\n", v.Version, when(v.CreatedAt), v.Kind, shortActor(v.Actor), summarizeNames(v.Names, 4), oneLine(v.Message))
			}
			return tw.Flush()
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "show at most N versions (0: all)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}

// shortActor abbreviates age recipients, which are long.
func shortActor(s string) string {
	if strings.HasPrefix(s, "age1") && len(s) > 16 {
		return s[:10] + "…" + s[len(s)-4:]
	}
	return s
}

func summarizeNames(names []string, max int) string {
	if len(names) <= max {
		return strings.Join(names, ",")
	}
	return strings.Join(names[:max], ",") + fmt.Sprintf(",… (+%d)", len(names)-max)
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) > 60 {
		return s[:57] + "..."
	}
	return s
}
