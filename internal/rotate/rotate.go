// Package rotate is the rotation engine: the persisted state machine of
// DESIGN §4 that creates a new credential while the old one stays valid,
// distributes and deploys it, verifies real behaviour for a window and only
// then revokes the old one — or rolls back.
//
// # States
//
//	planned → created → distributed → deployed → verified [→ awaiting_approval] → revoked → done
//	any failure before revoked ──► rolling_back → rolled_back
//
// Every transition is one store transaction together with its audit entry,
// under the rotation's lease fence. Every step observes before it acts, so
// running a step again after a crash (`--resume`) does nothing twice.
//
// # Invariants
//
//  1. Nothing touches the old credential before verified.
//  2. A value slickenv generates is sealed into the journal before the
//     provider sees it; a provider-generated value is journaled in the step
//     that returns it.
//  3. Steps are observe-then-act and keyed by the rotation id.
//  4. One rotation per variable: a lease with a fencing token.
//  5. Before revoked, rollback is always possible: the previous values come
//     back as a new version, consumers are redeployed, the new credential is
//     revoked.
//  6. The audit entry is in the same transaction as the state change.
package rotate

import (
	"errors"
	"fmt"
	"time"

	"github.com/slickenv/slickenv/internal/store"
)

// States of the journal.
const (
	StatePlanned          = "planned"
	StateCreated          = "created"
	StateDistributed      = "distributed"
	StateDeployed         = "deployed"
	StateVerified         = "verified"
	StateAwaitingApproval = "awaiting_approval"
	StateRevoked          = "revoked"
	StateDone             = store.RotationDone
	StateRollingBack      = "rolling_back"
	StateRolledBack       = store.RotationRolledBack
)

// Outcome is how a run of the engine ended.
type Outcome string

// Outcomes.
const (
	OutcomeDone             Outcome = "done"
	OutcomeRolledBack       Outcome = "rolled_back"
	OutcomeAwaitingApproval Outcome = "awaiting_approval"
)

// Sentinel errors.
var (
	// ErrRolledBack: verification failed and the rotation was rolled back.
	ErrRolledBack = errors.New("rotation failed and was rolled back")
	// ErrNotConfigured: the variable has no usable provider configuration.
	ErrNotConfigured = errors.New("rotation not configured")
)

// RunningError says another live process is rotating the variable (exit 4).
type RunningError struct{ Rotation store.Rotation }

func (e *RunningError) Error() string {
	return fmt.Sprintf("rotation %s of %s is running (held by %s, state %s, started %s)",
		e.Rotation.ID, e.Rotation.Name, e.Rotation.LeaseOwner, e.Rotation.State, e.Rotation.StartedAt.Local().Format(time.RFC3339))
}

// Unwrap makes errors.Is(err, store.ErrConflict) true.
func (e *RunningError) Unwrap() error { return store.ErrConflict }

// UnfinishedError says an earlier rotation of the variable did not finish
// and nobody holds it (exit 6).
type UnfinishedError struct{ Rotation store.Rotation }

func (e *UnfinishedError) Error() string {
	return fmt.Sprintf("rotation %s of %s is unfinished (state %s, last update %s)",
		e.Rotation.ID, e.Rotation.Name, e.Rotation.State, e.Rotation.UpdatedAt.Local().Format(time.RFC3339))
}

// FailedError wraps the cause of a rollback (matches ErrRolledBack).
type FailedError struct {
	Rotation string
	Cause    error
}

func (e *FailedError) Error() string {
	return fmt.Sprintf("rotation %s rolled back: %v", e.Rotation, e.Cause)
}

// Is makes errors.Is(err, ErrRolledBack) true.
func (e *FailedError) Is(target error) bool { return target == ErrRolledBack }

// Unwrap returns the cause.
func (e *FailedError) Unwrap() error { return e.Cause }
