package cli

import (
	"github.com/spf13/cobra"
)

func newRollbackCommand(a *App) *cobra.Command {
	var to int64
	var message string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "rollback --to N [KEY…]",
		Short: "Restore version N's values as a new version (whole environment or the named keys)",
		Long: `rollback writes a new version (kind rollback) whose values equal version N:
for every variable, or only for the named keys. Nothing is rewritten: the
versions after N stay in history, and a rollback can itself be rolled back.
A restored value keeps the age it had (status counts from when it first
entered the environment).`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !cmd.Flags().Changed("to") {
				return usageErrorf("rollback needs --to N (see `slickenv history`)")
			}
			if to < 0 {
				return usageErrorf("--to must be a version number (0 is the empty environment)")
			}
			// Rollback copies ciphertexts and needs no key, but it is a write:
			// only a member (an identity that can unlock the environment) may
			// make it.
			env, err := a.OpenEnv(cmd.Context(), true)
			if err != nil {
				return err
			}
			res, err := env.Rollback(cmd.Context(), to, args, message)
			return renderChange(a, env, res, err, asJSON)
		},
	}
	cmd.Flags().Int64Var(&to, "to", 0, "the version whose values to restore")
	cmd.Flags().StringVarP(&message, "message", "m", "", "message recorded with the version (default: \"rollback to vN\")")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}
