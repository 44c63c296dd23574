// Package testenv gives integration tests the addresses of the throwaway
// servers that scripts/test starts (PostgreSQL, MariaDB, Redis), and skips
// tests whose server is missing — except under SLICKENV_TEST_DISALLOW_SKIP=1
// (CI), where a missing server is a failure.
package testenv

import (
	"os"
	"testing"
)

// Variables set by scripts/test (see scripts/services). The servers check
// passwords on TCP (PostgreSQL scram-sha-256, MariaDB and Redis passwords),
// so a test can prove that a revoked password is rejected. They are shared
// by every test package, which run in parallel: create users, roles, keys
// and databases with unique names and drop them in t.Cleanup.
const (
	EnvPostgres     = "SLICKENV_TEST_POSTGRES_URL" // superuser URL, e.g. postgres://postgres:PW@127.0.0.1:PORT/postgres?sslmode=disable
	EnvMySQL        = "SLICKENV_TEST_MYSQL_DSN"    // root DSN for go-sql-driver, e.g. root:PW@tcp(127.0.0.1:PORT)/
	EnvRedis        = "SLICKENV_TEST_REDIS_URL"    // admin URL, e.g. redis://default:PW@127.0.0.1:PORT/0
	EnvStripe       = "SLICKENV_TEST_STRIPE_URL"   // stripe-mock base URL, e.g. http://127.0.0.1:PORT
	EnvDisallowSkip = "SLICKENV_TEST_DISALLOW_SKIP"
)

// Skip skips t with reason, or fails it when skips are disallowed.
func Skip(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv(EnvDisallowSkip) == "1" {
		t.Fatalf("%s (skips are disallowed: %s=1)", reason, EnvDisallowSkip)
	}
	t.Skip(reason)
}

func need(t testing.TB, name, what string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		Skip(t, what+" is not available: "+name+" is not set (run ./scripts/test, which starts it)")
	}
	return v
}

// Postgres returns the superuser URL of the test PostgreSQL server.
func Postgres(t testing.TB) string { t.Helper(); return need(t, EnvPostgres, "PostgreSQL") }

// MySQL returns the root DSN of the test MariaDB server.
func MySQL(t testing.TB) string { t.Helper(); return need(t, EnvMySQL, "MariaDB") }

// Redis returns the admin URL of the test Redis server.
func Redis(t testing.TB) string { t.Helper(); return need(t, EnvRedis, "Redis") }

// Stripe returns the base URL of the test stripe-mock server. It accepts
// any sk_test_/rk_test_ key and returns fixtures (one account for every
// key); it rejects other keys with 401.
func Stripe(t testing.TB) string { t.Helper(); return need(t, EnvStripe, "stripe-mock") }
