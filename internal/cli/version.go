package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// buildInfo returns the module version and VCS revision embedded by the Go
// toolchain.
func buildInfo() (version, revision string, dirty bool) {
	version, revision = "(devel)", "unknown"
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return
	}
	if bi.Main.Version != "" {
		version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			revision = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	return
}

func newVersionCommand(a *App) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print slickenv's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			v, rev, dirty := buildInfo()
			if asJSON {
				return writeJSON(a.Stdout, map[string]any{"version": v, "revision": rev, "dirty": dirty, "go": runtime.Version(), "platform": runtime.GOOS + "/" + runtime.GOARCH})
			}
			if dirty {
				rev += "-dirty"
			}
			fmt.Fprintf(a.Stdout, "slickenv %s (%s, %s, %s/%s)\n", v, rev, runtime.Version(), runtime.GOOS, runtime.GOARCH)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
