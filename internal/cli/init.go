package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/slickenv/slickenv/internal/config"
	"github.com/slickenv/slickenv/internal/crypto"
	"github.com/slickenv/slickenv/internal/environment"
	"github.com/slickenv/slickenv/internal/store"
)

type initOptions struct {
	project string
	json    bool
}

func newInitCommand(a *App) *cobra.Command {
	var o initOptions
	cmd := &cobra.Command{
		Use:   "init [--project NAME]",
		Short: "Set up slickenv for the project in the current directory",
		Long: `init writes .slickenv.yaml in the current directory (unless one is found here
or above), creates your identity (an age key pair) unless you have one, and
creates the local store with the environments development, staging and
production. Running it again is safe: it only adds what is missing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return runInit(cmd, a, o) },
	}
	cmd.Flags().StringVar(&o.project, "project", "", "project name (default: the directory's name)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the result as JSON")
	return cmd
}

func runInit(cmd *cobra.Command, a *App, o initOptions) error {
	ctx := cmd.Context()
	if o.project != "" && !config.ValidProjectName(o.project) {
		return usageErrorf("invalid project name %q: use lowercase letters, digits, '.', '_' and '-' (at most 64)", o.project)
	}
	did := []string{} // JSON: [] rather than null when nothing was done
	// 1. The project file.
	cfgPath := a.configPath
	if cfgPath == "" {
		if p, err := config.Find(a.Wd); err == nil {
			cfgPath = p
		} else if errors.Is(err, config.ErrNotFound) {
			cfgPath = filepath.Join(a.Wd, config.FileName)
		} else {
			return err
		}
	}
	if _, err := os.Stat(cfgPath); errors.Is(err, os.ErrNotExist) {
		project := o.project
		if project == "" {
			project = defaultProjectName(filepath.Dir(cfgPath))
		}
		f, err := os.OpenFile(cfgPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return fmt.Errorf("write %s: %w", cfgPath, err)
		}
		if _, err := f.Write(config.Template(project)); err != nil {
			f.Close()
			return fmt.Errorf("write %s: %w", cfgPath, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("write %s: %w", cfgPath, err)
		}
		did = append(did, "wrote "+cfgPath)
	} else if err != nil {
		return err
	}
	a.configPath = cfgPath
	cfg, err := a.Config()
	if err != nil {
		return err
	}
	if o.project != "" && o.project != cfg.Project {
		return fmt.Errorf("%s already names project %q, not %q", cfgPath, cfg.Project, o.project)
	}

	// 2. The identity.
	id, err := a.Identity()
	if errors.Is(err, crypto.ErrNoIdentity) {
		dir, derr := a.ConfigDir()
		if derr != nil {
			return derr
		}
		if id, err = crypto.GenerateIdentity(); err != nil {
			return err
		}
		path := filepath.Join(dir, "identity")
		if err := crypto.WriteIdentityFile(path, id); err != nil {
			return err
		}
		a.id, a.idSrc = id, path
		did = append(did, "created identity "+path)
	} else if err != nil {
		return err
	}

	// 3. The store and its environments.
	a.createStore = true
	st, err := a.Store(ctx)
	if err != nil {
		return err
	}
	storePath, _ := a.StorePath()
	created := []string{}
	for _, name := range []string{"development", "staging", "production"} {
		_, err := environment.Create(ctx, st, cfg.Project, name, a.Actor(), []string{id.Recipient()})
		switch {
		case err == nil:
			created = append(created, name)
		case errors.Is(err, store.ErrExists):
		default:
			return err
		}
	}
	if len(created) > 0 {
		did = append(did, fmt.Sprintf("created environments %v in %s", created, storePath))
	}
	if o.json {
		return writeJSON(a.Stdout, map[string]any{
			"project": cfg.Project, "config": cfgPath, "store": storePath,
			"recipient": id.Recipient(), "identity": a.idSrc, "created_environments": created, "actions": did,
		})
	}
	if len(did) == 0 {
		fmt.Fprintf(a.Stdout, "Project %s is already set up (store %s).\n", cfg.Project, storePath)
	}
	for _, d := range did {
		fmt.Fprintf(a.Stdout, "✓ %s\n", d)
	}
	fmt.Fprintf(a.Stdout, "Your recipient: %s\n", id.Recipient())
	fmt.Fprintf(a.Stdout, "Next: slickenv import .env -e development   or   slickenv set KEY=VALUE\n")
	return nil
}
