package cli

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/slickenv/slickenv/internal/dotenv"
	"github.com/slickenv/slickenv/internal/environment"
	"github.com/slickenv/slickenv/internal/secret"
	"github.com/slickenv/slickenv/internal/store"
)

type importOptions struct {
	message string
	expand  bool
	prune   bool
	json    bool
}

func newImportCommand(a *App) *cobra.Command {
	var o importOptions
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Import a .env file as one new version",
		Long: `import reads a .env file (- for stdin) and writes all its variables as one new
version. Variables not in the file are kept unless --prune is given. The file
is parsed like node dotenv v16; $ is never expanded unless --expand is given,
because expansion silently corrupts secrets. A malformed file is reported with
file:line:col and nothing is written.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runImport(cmd, a, o, args[0]) },
	}
	cmd.Flags().StringVarP(&o.message, "message", "m", "", "message recorded with the version")
	cmd.Flags().BoolVar(&o.expand, "expand", false, "expand $NAME and ${NAME} references while parsing")
	cmd.Flags().BoolVar(&o.prune, "prune", false, "also unset variables that are not in the file")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the result as JSON")
	return cmd
}

func runImport(cmd *cobra.Command, a *App, o importOptions, file string) error {
	var data []byte
	var err error
	name := file
	if file == "-" {
		name = "<stdin>"
		data, err = io.ReadAll(a.Stdin)
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	entries, err := dotenv.Parse(data, dotenv.ParseOptions{Filename: name, Expand: o.expand})
	if err != nil {
		return err
	}
	env, err := a.OpenEnv(cmd.Context(), true)
	if err != nil {
		return err
	}
	c := environment.Change{Kind: store.KindImport, Message: o.message, Prune: o.prune, Detail: map[string]any{"file": name}}
	for _, e := range entries {
		c.Set = append(c.Set, environment.Pair{Name: e.Key, Value: secret.New(e.Value)})
	}
	res, err := env.Apply(cmd.Context(), c)
	return renderChange(a, env, res, err, o.json)
}
