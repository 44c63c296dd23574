package config

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Template returns the project file `slickenv init` writes for project: the
// project and default environment, a policy block (warn_after 90d, max_age
// 180d) and commented-out examples of every other setting. For a valid project
// name the result parses with Parse; removing the "# " in front of the example
// secret block yields a valid file too.
func Template(project string) []byte {
	return []byte(fmt.Sprintf(templateText, yamlScalar(project), DefaultEnv, DefaultWarnAfter, DefaultMaxAge))
}

// yamlScalar renders s as a one-line YAML scalar that reads back as the string
// s (quoted when it would otherwise read as a number, null, boolean...).
func yamlScalar(s string) string {
	out, err := yaml.Marshal(s)
	text := strings.TrimSuffix(string(out), "\n")
	if err != nil || strings.Contains(text, "\n") {
		return fmt.Sprintf("%q", s)
	}
	return text
}

const templateText = `# slickenv project file. Commit it: it names secrets but never holds a value.

project: %s
default_env: %s

# Where environment versions are kept. Default: a local database under
# $XDG_DATA_HOME/slickenv/projects/. SLICKENV_STORE overrides this setting.
# store: https://slickenv.example.com

# Name recorded in audit entries.
# actor: alice

# How old a secret may get: past warn_after it is due for rotation,
# past max_age it has expired. Units: w, d, h, m, s (e.g. 90d, 1d12h).
policy:
  warn_after: %s
  max_age: %s

# Files that "slickenv scan" skips.
# scan:
#   ignore_paths: ["testdata/**"]

# Rotation settings per variable. Provider settings may refer to other
# variables of the environment as ${NAME}; write $$ for a literal $.
# secrets:
#   DATABASE_URL:
#     provider: postgres
#     with: { admin_url: "${PG_ADMIN_URL}", roles: [app_blue, app_green] }
#     max_age: 30d
#     targets:
#       - dotenv: /srv/app/.env
#       - command: [systemctl, reload, app]
#       - signal: { pidfile: /run/app.pid, signal: HUP }
#     verify:
#       window: 60s
#       approve: auto
#       checks:
#         - http: { url: "http://127.0.0.1:8080/healthz", every: 1s, min_success: 1.0 }
#         - command: [./scripts/smoke.sh]
#       drain: { timeout: 5m }
`
