package deploy

import (
	"fmt"
	"path/filepath"

	"github.com/slickenv/slickenv/internal/config"
)

// FromConfig builds the targets of a secret's configuration, in order.
// Relative paths (a dotenv file, a pidfile) are resolved against baseDir,
// the directory of the configuration file, which is also the working
// directory of commands. An invalid entry is an error naming its index
// ("targets[1]: …"); nothing is run or touched.
func FromConfig(targets []config.Target, baseDir string) ([]Target, error) {
	out := make([]Target, 0, len(targets))
	for i, t := range targets {
		var target Target
		switch {
		case t.Dotenv != "":
			target = NewDotenv(resolve(baseDir, t.Dotenv))
		case len(t.Command) > 0:
			if t.Command[0] == "" {
				return nil, fmt.Errorf("targets[%d]: empty program name", i)
			}
			target = NewCommand(t.Command, baseDir)
		case t.Signal != nil:
			if t.Signal.Pidfile == "" {
				return nil, fmt.Errorf("targets[%d]: signal without a pidfile", i)
			}
			if _, ok := config.NormalizeSignal(t.Signal.Signal); !ok {
				return nil, fmt.Errorf("targets[%d]: unsupported signal %q", i, t.Signal.Signal)
			}
			target = NewSignal(resolve(baseDir, t.Signal.Pidfile), t.Signal.Signal)
		default:
			return nil, fmt.Errorf("targets[%d]: no dotenv, command or signal", i)
		}
		out = append(out, target)
	}
	return out, nil
}

func resolve(baseDir, path string) string {
	if filepath.IsAbs(path) || baseDir == "" {
		return path
	}
	return filepath.Join(baseDir, path)
}
