package testenv

import (
	"net/url"
	"regexp"
	"testing"
)

// TestServers checks that scripts/services exported every server in the
// documented format. Under SLICKENV_TEST_DISALLOW_SKIP=1 (CI) a missing
// server fails here, with one clear message, before the provider tests do.
func TestServers(t *testing.T) {
	t.Run("postgres", func(t *testing.T) {
		u, err := url.Parse(Postgres(t))
		if err != nil || u.Scheme != "postgres" || u.Host == "" || u.User == nil {
			t.Errorf("%s is not postgres://USER:PW@HOST:PORT/DB", EnvPostgres)
		}
	})
	t.Run("mysql", func(t *testing.T) {
		if !regexp.MustCompile(`^[^:@]+:[^@]*@tcp\([^)]+\)/`).MatchString(MySQL(t)) {
			t.Errorf("%s is not USER:PW@tcp(HOST:PORT)/", EnvMySQL)
		}
	})
	t.Run("redis", func(t *testing.T) {
		u, err := url.Parse(Redis(t))
		if err != nil || u.Scheme != "redis" || u.Host == "" || u.User == nil {
			t.Errorf("%s is not redis://USER:PW@HOST:PORT/DB", EnvRedis)
		}
	})
}
