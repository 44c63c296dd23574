// Package verify implements the checks of a rotation's verification window:
// real behaviour (HTTP success rate, a smoke command) that must hold for the
// whole window before the old credential may be revoked.
//
// # Checks
//
//   - [NewHTTP] requests a URL at a fixed interval over the whole window and
//     holds while the share of 2xx responses stays at or above a minimum.
//   - [NewCommand] runs a command at the start and the end of the window (and
//     at an interval in between if asked) and holds while every run exits 0.
//
// [FromConfig] builds the checks of a secret's configuration and [RunAll]
// runs them together, stopping all as soon as one fails.
package verify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Kinds of check, as reported in Progress.Kind.
const (
	KindHTTP    = "http"
	KindCommand = "command"
)

// ErrFailed is wrapped by the error RunAll returns when a check did not hold
// (as opposed to the window being interrupted).
var ErrFailed = errors.New("verification failed")

// Progress is a check's running count, for the live display.
type Progress struct {
	Check     string // Describe() of the check
	Kind      string // KindHTTP, KindCommand, or "" for checks of other packages
	Succeeded int    // observations that passed so far (requests, command runs)
	Total     int    // observations so far
}

// LiveRequests sums the HTTP checks' counts: what a display shows as "live
// requests succeeding (succeeded/total)".
func LiveRequests(ps []Progress) (succeeded, total int) {
	for _, p := range ps {
		if p.Kind == KindHTTP {
			succeeded += p.Succeeded
			total += p.Total
		}
	}
	return succeeded, total
}

// Check observes the system during a window.
type Check interface {
	// Describe is a one-line description ("http http://127.0.0.1:8080/healthz").
	Describe() string
	// Run observes for the whole window, calling progress after each
	// observation, and returns nil only when the check held for the whole
	// window. It returns early with an error as soon as the check can no
	// longer pass. When ctx is done first it stops and returns an error
	// wrapping ctx's error; an observation cut short by that is not counted.
	// The error text never contains a secret value and starts by naming
	// the check.
	Run(ctx context.Context, window time.Duration, progress func(Progress)) error
}

// kinded is implemented by the checks of this package to name their kind
// before their first observation.
type kinded interface{ kind() string }

// Failure is the error RunAll returns when a check fails: errors.Is(err,
// ErrFailed) holds, and Err is the check's own error.
type Failure struct {
	Check string // Describe() of the check that failed
	Err   error
}

// Error returns the check's own message.
func (f *Failure) Error() string { return f.Err.Error() }

// Unwrap makes both ErrFailed and the check's error visible to errors.Is
// and errors.As.
func (f *Failure) Unwrap() []error { return []error{ErrFailed, f.Err} }

// RunAll runs every check concurrently for window and returns nil when all
// of them held, never before the window is over. As soon as one fails it
// cancels the others and returns a *Failure with that first failure. When ctx is done first it returns an
// error wrapping ctx's error ("verification interrupted: …"), which is not
// an ErrFailed.
//
// With no checks, RunAll still waits out the window: the window is the time
// both credentials stay valid side by side, whatever watches it.
//
// progress (may be nil) receives a snapshot with one Progress per check, in
// the order of checks, once at the start and after every observation of any
// check. Calls never overlap, and the slice is the callee's to keep.
func RunAll(ctx context.Context, window time.Duration, checks []Check, progress func([]Progress)) error {
	start := time.Now()
	if progress == nil {
		progress = func([]Progress) {}
	}
	var mu sync.Mutex
	state := make([]Progress, len(checks))
	for i, c := range checks {
		state[i].Check = c.Describe()
		if k, ok := c.(kinded); ok {
			state[i].Kind = k.kind()
		}
	}
	progress(slices.Clone(state))

	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var first *Failure
	var wg sync.WaitGroup
	for i, c := range checks {
		wg.Go(func() {
			err := c.Run(runCtx, window, func(p Progress) {
				mu.Lock()
				defer mu.Unlock()
				p.Check, p.Kind = state[i].Check, cmp.Or(p.Kind, state[i].Kind)
				state[i] = p
				progress(slices.Clone(state))
			})
			if err == nil {
				return
			}
			mu.Lock()
			if first == nil && runCtx.Err() == nil {
				first = &Failure{Check: state[i].Check, Err: err}
			}
			mu.Unlock()
			cancel()
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	// A check that finished early (one of another package) does not
	// shorten the window.
	if ctx.Err() != nil || sleepUntil(ctx, start.Add(window)) != nil {
		return fmt.Errorf("verification interrupted: %w", context.Cause(ctx))
	}
	return nil
}

// sleepUntil waits until t or until ctx is done, whichever is first, and
// returns ctx's error in the second case.
func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
