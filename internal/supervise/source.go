package supervise

import (
	"context"

	"github.com/slickenv/slickenv/internal/secret"
)

// Pair is one variable of an environment version.
type Pair struct {
	Name  string
	Value secret.Value
}

// Source is where a watching Supervisor learns about new versions.
type Source interface {
	// Head returns the newest version. It is called every poll interval, so
	// it must be cheap; an error is reported and the poll retried later.
	Head(ctx context.Context) (int64, error)
	// Values returns the variables of version, sorted by name. It is
	// called once per switch (implementations may record an audit entry).
	Values(ctx context.Context, version int64) ([]Pair, error)
}
