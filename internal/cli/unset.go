package cli

import (
	"github.com/spf13/cobra"

	"github.com/slickenv/slickenv/internal/environment"
	"github.com/slickenv/slickenv/internal/store"
)

func newUnsetCommand(a *App) *cobra.Command {
	var message string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "unset KEY…",
		Short: "Remove variables (one new version; history keeps them)",
		Long: `unset writes one new version without the given variables. Every name must be
set; otherwise nothing is written (exit 3). The old values stay in history and
can be restored with rollback.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			env, err := a.OpenEnv(cmd.Context(), true)
			if err != nil {
				return err
			}
			res, err := env.Apply(cmd.Context(), environment.Change{Kind: store.KindUnset, Message: message, Unset: args})
			return renderChange(a, env, res, err, asJSON)
		},
	}
	cmd.Flags().StringVarP(&message, "message", "m", "", "message recorded with the version")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}
