package store

import (
	"context"
	"fmt"
	"time"

	"github.com/slickenv/slickenv/internal/audit"
)

// Rotation is one row of the rotation journal (DESIGN §4). The store treats
// State as opaque except for the terminal states below.
type Rotation struct {
	ID       string
	EnvID    int64
	Name     string
	Provider string
	State    string
	Attempt  int
	// PendingCiphertext is the new value, sealed before the provider sees it.
	PendingCiphertext []byte
	OldMeta           map[string]string
	NewMeta           map[string]string
	LeaseOwner        string
	LeaseUntil        time.Time
	Fence             int64 // incremented by every lease take-over
	StartedAt         time.Time
	UpdatedAt         time.Time
	LastError         string
}

// Terminal rotation states: a rotation in any other state is unfinished.
const (
	RotationDone       = "done"
	RotationRolledBack = "rolled_back"
)

// Finished reports whether the rotation reached a terminal state.
func (r Rotation) Finished() bool { return r.State == RotationDone || r.State == RotationRolledBack }

// RotationUpdate changes a journal row. Nil maps and slices leave the
// stored value alone.
type RotationUpdate struct {
	State             string
	PendingCiphertext []byte
	OldMeta           map[string]string
	NewMeta           map[string]string
	LastError         *string
	Attempt           int // 0: unchanged
}

// BusyError reports that a variable already has an unfinished rotation. It
// matches ErrConflict.
type BusyError struct {
	Existing Rotation
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("rotation %s of %s is unfinished (state %s, started %s)", e.Existing.ID, e.Existing.Name, e.Existing.State, e.Existing.StartedAt.Format(time.RFC3339))
}

// Unwrap makes errors.Is(err, ErrConflict) true.
func (e *BusyError) Unwrap() error { return ErrConflict }

// Journal is the rotation journal part of a Store. Every method that changes
// a row is one transaction with its audit record; changes to a rotation name
// the fence they hold and fail with ErrConflict (nothing written) when
// another process took the lease since.
type Journal interface {
	// StartRotation inserts r (fence 1) unless the variable has an
	// unfinished rotation, in which case it returns *BusyError.
	StartRotation(ctx context.Context, r Rotation, rec audit.Record) (Rotation, error)
	// Rotation returns one rotation by id (ErrNotFound).
	Rotation(ctx context.Context, id string) (Rotation, error)
	// OpenRotation returns the variable's unfinished rotation (ErrNotFound).
	OpenRotation(ctx context.Context, envID int64, name string) (Rotation, error)
	// Rotations lists an environment's rotations, newest first.
	Rotations(ctx context.Context, envID int64, limit int) ([]Rotation, error)
	// TakeLease sets a new lease holder if the fence is still expectFence,
	// and increments the fence.
	TakeLease(ctx context.Context, id, owner string, until time.Time, expectFence int64, rec audit.Record) (Rotation, error)
	// RenewLease extends the lease of the current holder.
	RenewLease(ctx context.Context, id, owner string, fence int64, until time.Time) error
	// ReleaseLease ends the holder's lease (lease_until = 0).
	ReleaseLease(ctx context.Context, id string, fence int64) error
	// AdvanceRotation applies u under fence and appends rec.
	AdvanceRotation(ctx context.Context, id string, fence int64, u RotationUpdate, rec audit.Record) (Rotation, error)
}
