package verify

import (
	"fmt"

	"github.com/slickenv/slickenv/internal/config"
)

// FromConfig builds the checks of a secret's verify.checks, in order.
// Commands run in baseDir, the directory of the configuration file, at the
// start and the end of the window. An invalid entry is an error naming its
// index ("checks[1]: …").
func FromConfig(checks []config.Check, baseDir string) ([]Check, error) {
	out := make([]Check, 0, len(checks))
	for i, c := range checks {
		switch {
		case c.HTTP != nil:
			h := c.HTTP
			if h.URL == "" {
				return nil, fmt.Errorf("checks[%d]: http check without a url", i)
			}
			if h.Every <= 0 {
				return nil, fmt.Errorf("checks[%d]: http every must be greater than zero", i)
			}
			if !(h.MinSuccess >= 0 && h.MinSuccess <= 1) {
				return nil, fmt.Errorf("checks[%d]: http min_success %v is out of range [0, 1]", i, h.MinSuccess)
			}
			out = append(out, NewHTTP(h.URL, h.Every.Std(), h.MinSuccess))
		case len(c.Command) > 0:
			if c.Command[0] == "" {
				return nil, fmt.Errorf("checks[%d]: empty program name", i)
			}
			out = append(out, NewCommand(c.Command, baseDir, 0))
		default:
			return nil, fmt.Errorf("checks[%d]: no http or command", i)
		}
	}
	return out, nil
}
