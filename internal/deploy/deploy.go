// Package deploy implements rotation targets: what happens after a new
// environment version is written so that consumers pick it up (rewrite a
// .env file, run a deploy/restart command, signal a process).
//
// # Targets
//
//   - [NewDotenv] rewrites the affected keys of a .env file in place,
//     atomically, mode 0600, every other line kept.
//   - [NewCommand] runs a deploy or restart hook without a shell. Values never
//     reach its argv or environment: the hook reloads from wherever the other
//     targets put them.
//   - [NewSignal] sends a signal to the process named in a pidfile.
//
// [FromConfig] builds the targets of a secret's configuration, in order.
// Every Deploy is safe to repeat, which a rotation resumed after a crash
// does.
package deploy

import (
	"context"

	"github.com/slickenv/slickenv/internal/secret"
)

// Request describes one deployment of an environment version.
type Request struct {
	RotationID string // exported to commands as SLICKENV_ROTATION_ID
	Env        string
	Version    int64
	// Set are the variables to write (new values); Unset the ones to remove.
	Set   map[string]secret.Value
	Unset []string
}

// Target delivers a new environment version to its consumers.
// Deploy is idempotent: deploying the same request twice leaves the same
// result. Errors never contain values, and do not repeat Describe: callers
// add it as context.
type Target interface {
	// Describe is a one-line human description ("dotenv /srv/shop/.env").
	Describe() string
	Deploy(ctx context.Context, req Request) error
}
