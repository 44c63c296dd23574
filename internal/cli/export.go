package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/slickenv/slickenv/internal/dotenv"
)

type exportOptions struct {
	format  string
	version int64
	output  string
}

func newExportCommand(a *App) *cobra.Command {
	var o exportOptions
	cmd := &cobra.Command{
		Use:   "export [--format dotenv|json|yaml|shell|docker] [--version N] [-o FILE]",
		Short: "Print the environment's values in a file format",
		Long: `export decrypts the environment (or its version N) and prints it as a .env
file, JSON, YAML, a shell script safe to source, or a docker --env-file.
Exported .env files import back byte for byte. With -o the file is written
atomically with mode 0600. Every export is recorded in the audit log.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := dotenv.ParseFormat(o.format)
			if err != nil {
				return &usageError{msg: err.Error()}
			}
			env, err := a.OpenEnv(cmd.Context(), true)
			if err != nil {
				return err
			}
			pairs, _, err := env.Values(cmd.Context(), o.version, "export")
			if err != nil {
				return err
			}
			entries := make([]dotenv.Entry, len(pairs))
			for i, p := range pairs {
				entries[i] = dotenv.Entry{Key: p.Name, Value: p.Value.Reveal()}
			}
			var buf bytes.Buffer
			if err := dotenv.Write(&buf, f, entries); err != nil {
				return err
			}
			if o.output == "" || o.output == "-" {
				_, err := a.Stdout.Write(buf.Bytes())
				return err
			}
			return writeFileAtomic(o.output, buf.Bytes(), 0o600)
		},
	}
	cmd.Flags().StringVar(&o.format, "format", "dotenv", "output format: dotenv, json, yaml, shell or docker")
	cmd.Flags().Int64Var(&o.version, "version", 0, "export environment version N")
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "write to FILE (mode 0600) instead of stdout")
	return cmd
}

// writeFileAtomic writes data to a temporary file in path's directory with
// mode perm, syncs it and renames it over path.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(perm); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
