package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/slickenv/slickenv/internal/status"
)

func newGetCommand(a *App) *cobra.Command {
	var version int64
	var asJSON, noNewline bool
	cmd := &cobra.Command{
		Use:   "get KEY [--version N]",
		Short: "Print one variable's value",
		Long: `get prints one value followed by a newline (-n: exactly the value). With
--version N it prints the value as of that environment version. Every get is
recorded in the audit log.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			env, err := a.OpenEnv(cmd.Context(), true)
			if err != nil {
				return err
			}
			val, v, err := env.Get(cmd.Context(), args[0], version)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(a.Stdout, map[string]any{
					"env": env.Name(), "name": v.Name, "value": val.Reveal(), "version": v.Version,
					"since": timeJSON(v.Since), "age_seconds": int64(time.Since(v.Since).Seconds()),
				})
			}
			if _, err := io.WriteString(a.Stdout, val.Reveal()); err != nil {
				return err
			}
			if !noNewline {
				fmt.Fprintln(a.Stdout)
			}
			if isTerminal(a.Stderr) && isTerminal(a.Stdout) {
				fmt.Fprintf(a.Stderr, "(%s v%d, age %s)\n", env.Name(), v.Version, status.HumanAge(time.Since(v.Since)))
			}
			return nil
		},
	}
	cmd.Flags().Int64Var(&version, "version", 0, "read the value as of environment version N")
	cmd.Flags().BoolVarP(&noNewline, "no-newline", "n", false, "print the value without a trailing newline")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print name, value, version and age as JSON")
	return cmd
}
