package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// Main runs the CLI with args (without the program name) and returns the
// exit code.
func Main(ctx context.Context, a *App, args []string) int {
	defer a.Close()
	root := newRootCommand(a)
	root.SetArgs(args)
	root.SetIn(a.Stdin)
	root.SetOut(a.Stdout)
	root.SetErr(a.Stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil {
		if isCobraUsage(err, cmd) {
			err = &usageError{msg: err.Error()}
		}
		printError(a.Stderr, err)
		var ue *usageError
		if errors.As(err, &ue) && cmd != nil {
			fmt.Fprintf(a.Stderr, "slickenv: hint: see `%s --help`\n", cmd.CommandPath())
		}
	}
	return ExitCode(err)
}

// isCobraUsage reports whether err came from cobra's own argument or flag
// parsing rather than from a command's run function.
func isCobraUsage(err error, cmd *cobra.Command) bool {
	var ee *exitError
	var ue *usageError
	if errors.As(err, &ee) || errors.As(err, &ue) {
		return false
	}
	// The persistent pre-run marks a command whose flags and arguments were
	// accepted; any error before that is a usage error.
	return cmd == nil || cmd.Annotations["ran"] != "true"
}

func newRootCommand(a *App) *cobra.Command {
	root := &cobra.Command{
		Use:   "slickenv",
		Short: "Encrypted, versioned environments and safe secret rotation",
		Long: `slickenv keeps your project's environments (development, staging, production)
encrypted on your machine, with every change a new immutable version that can
be diffed and rolled back, and tells you how old every secret is.`,
		SilenceUsage:      true,
		SilenceErrors:     true,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
	}
	root.PersistentFlags().StringVar(&a.configPath, "config", "", "path to .slickenv.yaml (default: found walking up from the working directory)")
	root.PersistentFlags().StringVarP(&a.envFlag, "env", "e", "", "environment (default: $SLICKENV_ENV, then the project's default_env)")
	root.PersistentPreRun = func(cmd *cobra.Command, args []string) {
		if cmd.Annotations == nil {
			cmd.Annotations = map[string]string{}
		}
		cmd.Annotations["ran"] = "true"
	}
	root.AddCommand(
		newInitCommand(a),
		newSetCommand(a),
		newGetCommand(a),
		newUnsetCommand(a),
		newListCommand(a),
		newImportCommand(a),
		newExportCommand(a),
		newHistoryCommand(a),
		newDiffCommand(a),
		newRollbackCommand(a),
		newRunCommand(a),
		newStatusCommand(a),
		newAuditCommand(a),
		newRotateCommand(a),
		newDemoCommand(a),
		newProviderCommand(a),
		newServerCommand(a),
		newLoginCommand(a),
		newScanCommand(a),
		newDemoAppCommand(a),
		newVersionCommand(a),
	)
	return root
}
