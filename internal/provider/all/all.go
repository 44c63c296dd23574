// Package all is the explicit registry of provider kinds: every provider
// slickenv ships is registered here, and nowhere else (no init side
// effects). It is a package of its own because package provider cannot
// import the provider packages that import it.
package all

import (
	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/provider/exec"
	"github.com/slickenv/slickenv/internal/provider/mysql"
	"github.com/slickenv/slickenv/internal/provider/postgres"
	"github.com/slickenv/slickenv/internal/provider/random"
	"github.com/slickenv/slickenv/internal/provider/redis"
	"github.com/slickenv/slickenv/internal/provider/stripe"
)

// Registry returns a new registry holding every provider kind. Each call
// returns a fresh registry; callers may register more kinds (tests do).
func Registry() *provider.Registry {
	r := provider.NewRegistry()
	r.Register(exec.Kind, exec.New)
	r.Register(mysql.Kind, mysql.New)
	r.Register(postgres.Kind, postgres.New)
	r.Register(random.Kind, random.New)
	r.Register(redis.Kind, redis.New)
	r.Register(stripe.Kind, stripe.New)

	// Detection runs before any settings exist. These Detect methods read
	// only the value, so a zero provider serves as the recogniser.
	r.RegisterDetector(mysql.Kind, new(mysql.Provider).Detect)
	r.RegisterDetector(postgres.Kind, new(postgres.Provider).Detect)
	r.RegisterDetector(redis.Kind, new(redis.Provider).Detect)
	r.RegisterDetector(stripe.Kind, stripe.Detect)
	return r
}
