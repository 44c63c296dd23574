package rotate

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/slickenv/slickenv/internal/audit"
	"github.com/slickenv/slickenv/internal/deploy"
	"github.com/slickenv/slickenv/internal/environment"
	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/secret"
	"github.com/slickenv/slickenv/internal/store"
	"github.com/slickenv/slickenv/internal/verify"
)

// Journal metadata keys the engine keeps next to the provider's own.
const (
	metaBaseVersion     = "slickenv.base_version"      // environment head when the rotation started
	metaOldValueVersion = "slickenv.old_value_version" // version that holds the old value
	metaNewVersion      = "slickenv.new_version"       // version the rotation wrote
	// metaRevoking is set before [5/5] touches the old credential: from then
	// on the rotation can only be finished, never rolled back.
	metaRevoking = "slickenv.revoking"
	// metaAdopt marks an abort from planned whose provider makes the value:
	// the rollback must find out whether a credential was made (adoptCreated).
	metaAdopt = "slickenv.adopt"
)

func (e *Engine) step(n int, title, status, detail string) {
	if n == stepVerify {
		title = fmt.Sprintf("Verification window (%s)", e.window)
	}
	e.rep.Event(Event{Kind: "step", Step: n, Total: totalSteps, Title: title, Status: status, Detail: detail})
}

func (e *Engine) state(r store.Rotation) {
	e.rep.Event(Event{Kind: "state", Rotation: r.ID, State: r.State})
}

func (e *Engine) info(msg string) { e.rep.Event(Event{Kind: "info", Message: msg}) }

func pendingAD(id string) string { return "rotation/" + id + "/pending" }

func (e *Engine) sealPending(id string, v secret.Value) ([]byte, error) {
	return e.o.Env.SealBlob(pendingAD(id), v.RevealBytes())
}

func (e *Engine) openPending(r store.Rotation) (secret.Value, error) {
	if len(r.PendingCiphertext) == 0 {
		return secret.Value{}, fmt.Errorf("rotation %s: no pending credential in the journal", r.ID)
	}
	b, err := e.o.Env.OpenBlob(pendingAD(r.ID), r.PendingCiphertext)
	if err != nil {
		return secret.Value{}, fmt.Errorf("rotation %s: open pending credential: %w", r.ID, err)
	}
	return secret.FromBytes(b), nil
}

// lastMeta returns the metadata of the credential in use: the new_meta of
// the variable's last completed rotation.
func (e *Engine) lastMeta(ctx context.Context) map[string]string {
	out := map[string]string{}
	rs, err := e.st.Rotations(ctx, e.envID(), 20)
	if err != nil {
		return out
	}
	for _, r := range rs {
		if r.Name == e.o.Name && r.State == StateDone {
			for k, v := range r.NewMeta {
				if len(k) < 9 || k[:9] != "slickenv." {
					out[k] = v
				}
			}
			break
		}
	}
	return out
}

func providerMeta(m map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		if len(k) < 9 || k[:9] != "slickenv." {
			out[k] = v
		}
	}
	return out
}

// advance moves the journal to state under the lease fence, with its audit
// entry in the same transaction, then honours a failpoint.
func (e *Engine) advance(ctx context.Context, r store.Rotation, state string, u store.RotationUpdate, detail map[string]any) (store.Rotation, error) {
	u.State = state
	if detail == nil {
		detail = map[string]any{}
	}
	detail["rotation"] = r.ID
	detail["from"] = r.State
	outcome := audit.OutcomeOK
	if state == StateRollingBack || state == StateRolledBack {
		outcome = audit.OutcomeFailed
	}
	nr, err := e.st.AdvanceRotation(ctx, r.ID, r.Fence, u, audit.Record{Actor: e.o.Env.Actor(), Action: "rotate." + state, Name: r.Name, Outcome: outcome, Detail: detail})
	if err != nil {
		return r, fmt.Errorf("rotation %s: record %s: %w", r.ID, state, err)
	}
	e.state(nr)
	e.failpoint(state)
	return nr, nil
}

func (e *Engine) failpoint(at string) {
	if e.o.Failpoint != "" && e.o.Failpoint == at {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Minute) // never returns: the signal is on its way
	}
}

func (e *Engine) rel(r store.Rotation) { _ = e.st.ReleaseLease(context.Background(), r.ID, r.Fence) }

// run drives r until it is done, rolled back or awaiting approval, renewing
// its lease meanwhile.
func (e *Engine) run(ctx context.Context, r store.Rotation) (Outcome, error) {
	ctx = provider.WithCall(ctx, provider.Call{RotationID: r.ID, Env: e.o.Env.Name(), Name: r.Name, ProjectDir: e.baseDir()})
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var wg sync.WaitGroup
	stop := make(chan struct{})
	// The loop below reassigns r; the renewer reads only these copies (the
	// fence does not change while we hold the lease).
	id, fence := r.ID, r.Fence
	// Release the lease on every way out, but only once the renewer has
	// stopped: a renewal landing after the release would make the lease
	// look live again for a whole TTL (exit 4 instead of 6 for a rotation
	// nobody drives, e.g. one awaiting approval).
	defer func() {
		close(stop)
		wg.Wait()
		_ = e.st.ReleaseLease(context.Background(), id, fence)
	}()
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(e.o.LeaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				if err := e.st.RenewLease(context.Background(), id, e.owner, fence, time.Now().Add(e.o.LeaseTTL)); err != nil {
					cancel(fmt.Errorf("lost the rotation lease: %w", err))
					return
				}
			}
		}
	}()
	var cause error // why we are rolling back
	for {
		if err := context.Cause(ctx); err != nil && ctx.Err() != nil {
			return "", err
		}
		var err error
		switch r.State {
		case StatePlanned:
			r, err = e.doCreate(ctx, r)
		case StateCreated:
			r, err = e.doDistribute(ctx, r)
		case StateDistributed:
			r, err = e.doDeploy(ctx, r)
		case StateDeployed:
			r, err = e.doVerify(ctx, r)
		case StateAwaitingApproval:
			e.info(fmt.Sprintf("both credentials stay valid until `slickenv rotate %s -e %s --approve` (or --abort)", r.Name, e.o.Env.Name()))
			return OutcomeAwaitingApproval, nil
		case StateVerified:
			r, err = e.doRevoke(ctx, r)
		case StateRevoked:
			e.step(stepRevoke, titleRevoke, "ok", "")
			r, err = e.advance(ctx, r, StateDone, store.RotationUpdate{}, nil)
		case StateDone:
			return OutcomeDone, nil
		case StateRollingBack:
			r, err = e.doRollback(ctx, r)
		case StateRolledBack:
			if cause == nil {
				cause = errors.New(r.LastError)
			}
			return OutcomeRolledBack, &FailedError{Rotation: r.ID, Cause: cause}
		default:
			return "", fmt.Errorf("rotation %s: unknown state %q in the journal", r.ID, r.State)
		}
		if err == nil {
			continue
		}
		var fe *stepError
		if !errors.As(err, &fe) || r.State == StateRollingBack || r.State == StateRevoked || r.State == StateVerified && fe.afterOld {
			// Journal or lease failures: stop here; --resume continues.
			return "", err
		}
		// A step failed before the old credential was touched: roll back.
		cause = fe.err
		msg := fe.err.Error()
		nr, aerr := e.advance(ctx, r, StateRollingBack, store.RotationUpdate{LastError: &msg}, map[string]any{"reason": msg})
		if aerr != nil {
			return "", aerr
		}
		r = nr
	}
}

// stepError is a step failure that calls for rollback (as opposed to a
// journal failure, after which the rotation stops and waits for --resume).
type stepError struct {
	err      error
	afterOld bool // the old credential may already be affected
}

func (s *stepError) Error() string { return s.err.Error() }
func (s *stepError) Unwrap() error { return s.err }

func fail(err error) error { return &stepError{err: err} }

// currentCredential returns the credential in use when the rotation
// started (read once per run; the read is audited).
func (e *Engine) currentCredential(ctx context.Context, r store.Rotation) (provider.Credential, error) {
	if e.old != nil {
		return *e.old, nil
	}
	ver, _ := strconv.ParseInt(r.OldMeta[metaOldValueVersion], 10, 64)
	v, _, err := e.o.Env.Get(ctx, r.Name, ver)
	if err != nil {
		return provider.Credential{}, fmt.Errorf("read the previous value of %s (v%d): %w", r.Name, ver, err)
	}
	e.old = &provider.Credential{Value: v, Meta: providerMeta(r.OldMeta)}
	return *e.old, nil
}

func (e *Engine) newCredential(r store.Rotation) (provider.Credential, error) {
	v, err := e.openPending(r)
	if err != nil {
		return provider.Credential{}, err
	}
	return provider.Credential{Value: v, Meta: providerMeta(r.NewMeta)}, nil
}

// doCreate: [2/5] the provider creates the new credential (idempotent per
// rotation id); a provider-generated value is journaled in this step.
func (e *Engine) doCreate(ctx context.Context, r store.Rotation) (store.Rotation, error) {
	e.step(stepCreate, titleCreate, "start", "")
	cur, err := e.currentCredential(ctx, r)
	if err != nil {
		return r, fail(err)
	}
	req := provider.CreateRequest{RotationID: r.ID, Env: e.o.Env.Name(), Name: r.Name, Current: cur}
	if len(r.PendingCiphertext) > 0 {
		if req.Pending, err = e.openPending(r); err != nil {
			return r, err
		}
	}
	cred, err := e.prov.Create(ctx, req)
	if err != nil {
		e.step(stepCreate, titleCreate, "fail", err.Error())
		return r, fail(fmt.Errorf("create: %w", err))
	}
	e.failpoint("create")
	u := store.RotationUpdate{NewMeta: cred.Meta}
	if u.NewMeta == nil {
		u.NewMeta = map[string]string{}
	}
	if len(r.PendingCiphertext) == 0 {
		if u.PendingCiphertext, err = e.sealPending(r.ID, cred.Value); err != nil {
			return r, err
		}
	}
	r, err = e.advance(ctx, r, StateCreated, u, nil)
	if err != nil {
		return r, err
	}
	e.step(stepCreate, titleCreate, "ok", "")
	return r, nil
}

// doDistribute: [3/5 a] write the new environment version (observe first:
// when the environment already holds the new value, write nothing).
func (e *Engine) doDistribute(ctx context.Context, r store.Rotation) (store.Rotation, error) {
	e.step(stepUpdate, titleUpdate, "start", "")
	newCred, err := e.newCredential(r)
	if err != nil {
		return r, err
	}
	cur, err := e.currentCredential(ctx, r)
	if err != nil {
		return r, fail(err)
	}
	set := []environment.Pair{{Name: r.Name, Value: newCred.Value}}
	if e.previous != "" {
		set = append(set, environment.Pair{Name: e.previous, Value: cur.Value})
	}
	res, err := e.o.Env.Apply(ctx, environment.Change{Kind: store.KindRotate, Message: "rotate " + r.Name + " (" + r.ID + ")", Set: set,
		Detail: map[string]any{"rotation": r.ID}})
	var version int64
	switch {
	case errors.Is(err, environment.ErrNoChange):
		head, herr := e.o.Env.Head(ctx)
		if herr != nil {
			return r, herr
		}
		version = head.Version
	case err != nil:
		e.step(stepUpdate, titleUpdate, "fail", err.Error())
		return r, fail(fmt.Errorf("write the new version: %w", err))
	default:
		version = res.Version.Version
	}
	meta := copyMeta(r.NewMeta)
	meta[metaNewVersion] = strconv.FormatInt(version, 10)
	return e.advance(ctx, r, StateDistributed, store.RotationUpdate{NewMeta: meta}, map[string]any{"version": version})
}

func copyMeta(m map[string]string) map[string]string {
	out := make(map[string]string, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (e *Engine) deployAll(ctx context.Context, r store.Rotation, version int64, set map[string]secret.Value, unset []string) error {
	for _, t := range e.targets {
		if err := t.Deploy(ctx, deploy.Request{RotationID: r.ID, Env: e.o.Env.Name(), Version: version, Set: set, Unset: unset}); err != nil {
			return fmt.Errorf("deploy to %s: %w", t.Describe(), err)
		}
	}
	return nil
}

// doDeploy: [3/5 b] deliver the new version to every target (idempotent).
func (e *Engine) doDeploy(ctx context.Context, r store.Rotation) (store.Rotation, error) {
	newCred, err := e.newCredential(r)
	if err != nil {
		return r, err
	}
	cur, err := e.currentCredential(ctx, r)
	if err != nil {
		return r, fail(err)
	}
	version, _ := strconv.ParseInt(r.NewMeta[metaNewVersion], 10, 64)
	set := map[string]secret.Value{r.Name: newCred.Value}
	if e.previous != "" {
		set[e.previous] = cur.Value
	}
	if err := e.deployAll(ctx, r, version, set, nil); err != nil {
		e.step(stepUpdate, titleUpdate, "fail", err.Error())
		return r, fail(err)
	}
	r, err = e.advance(ctx, r, StateDeployed, store.RotationUpdate{}, map[string]any{"targets": len(e.targets)})
	if err != nil {
		return r, err
	}
	base := r.OldMeta[metaBaseVersion]
	e.step(stepUpdate, titleUpdate, "ok", fmt.Sprintf("v%s → v%d, %d %s deployed", base, version, len(e.targets), plural(len(e.targets), "target", "targets")))
	return r, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// doVerify: [4/5] the provider's own test first, then every check for the
// whole window.
func (e *Engine) doVerify(ctx context.Context, r store.Rotation) (store.Rotation, error) {
	e.step(stepVerify, "", "start", "")
	newCred, err := e.newCredential(r)
	if err != nil {
		return r, err
	}
	if err := e.prov.Test(ctx, newCred); err != nil {
		e.step(stepVerify, "", "fail", "new credential rejected: "+err.Error())
		return r, fail(fmt.Errorf("test the new credential: %w", err))
	}
	start := time.Now()
	var mu sync.Mutex
	ok, total := 0, 0
	progress := func(ps []verify.Progress) {
		s, t := verify.LiveRequests(ps)
		mu.Lock()
		ok, total = s, t
		mu.Unlock()
		el := time.Since(start)
		rem := e.window - el
		if rem < 0 {
			rem = 0
		}
		e.rep.Event(Event{Kind: "window", Rotation: r.ID, ElapsedMS: el.Milliseconds(), RemainingMS: rem.Milliseconds(), Succeeded: s, Total: t})
	}
	checks, err := e.rotationChecks(ctx, r, newCred)
	if err != nil {
		return r, err
	}
	if err := verify.RunAll(ctx, e.window, checks, progress); err != nil {
		e.step(stepVerify, "", "fail", err.Error())
		if !errors.Is(err, verify.ErrFailed) {
			return r, err // interrupted, not failed: stop here, --resume verifies again
		}
		return r, fail(err)
	}
	mu.Lock()
	detail := "provider test passed"
	if total > 0 {
		detail = fmt.Sprintf("live requests succeeding (%s/%s)", thousands(ok), thousands(total))
	} else if len(e.checks) > 0 {
		detail = "all checks held"
	}
	mu.Unlock()
	if err := e.drain(ctx, r); err != nil {
		e.step(stepVerify, "", "fail", err.Error())
		return r, err
	}
	next := StateVerified
	if e.secret.Verify.Manual() {
		next = StateAwaitingApproval
	}
	r, err = e.advance(ctx, r, next, store.RotationUpdate{}, map[string]any{"window": e.window.String(), "succeeded": ok, "total": total})
	if err != nil {
		return r, err
	}
	e.step(stepVerify, "", "ok", detail)
	return r, nil
}

// drain waits until no session uses the previous credential, for at most
// verify.drain.timeout. On timeout it ends the stragglers with
// --force-revoke (providers that can), else it fails the step (rollback).
func (e *Engine) drain(ctx context.Context, r store.Rotation) error {
	d := e.secret.Verify.Drain
	ur, ok := e.prov.(provider.UsageReporter)
	if d == nil || !ok {
		return nil
	}
	old, err := e.currentCredential(ctx, r)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(d.Timeout.Std())
	last := -1
	for {
		n, err := ur.InUse(ctx, old)
		if err != nil {
			return fail(fmt.Errorf("drain: count sessions of the previous credential: %w", err))
		}
		if n == 0 {
			if last > 0 {
				e.info("drained: no session uses the previous credential any more")
			}
			return nil
		}
		if n != last {
			e.info(fmt.Sprintf("draining: %d %s still use the previous credential", n, plural(n, "session", "sessions")))
			last = n
		}
		if !time.Now().Before(deadline) {
			t, canEnd := e.prov.(provider.Terminator)
			if !e.o.ForceRevoke || !canEnd {
				return fail(fmt.Errorf("drain: %d %s still use the previous credential after %s", n, plural(n, "session", "sessions"), d.Timeout))
			}
			ended, err := t.Terminate(ctx, old)
			if err != nil {
				return fail(fmt.Errorf("drain: end the remaining sessions: %w", err))
			}
			e.info(fmt.Sprintf("--force-revoke: ended %d %s still using the previous credential", ended, plural(ended, "session", "sessions")))
			return nil
		}
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// rotationChecks returns the configured checks with this rotation's
// details filled in: command checks get SLICKENV_ROTATION_ID, SLICKENV_ENV
// and SLICKENV_VERSION, and both values are redacted from their stderr (a
// smoke script run with set -x prints what it reads).
func (e *Engine) rotationChecks(ctx context.Context, r store.Rotation, newCred provider.Credential) ([]verify.Check, error) {
	checks := make([]verify.Check, len(e.checks))
	for i, c := range e.checks {
		if cmd, ok := c.(*verify.Command); ok {
			old, err := e.currentCredential(ctx, r)
			if err != nil {
				return nil, err
			}
			withRotation := *cmd
			withRotation.RotationID, withRotation.Env = r.ID, e.o.Env.Name()
			withRotation.Version, _ = strconv.ParseInt(r.NewMeta[metaNewVersion], 10, 64)
			withRotation.Redact = []secret.Value{newCred.Value, old.Value}
			c = &withRotation
		}
		checks[i] = c
	}
	return checks, nil
}

func thousands(n int) string {
	s := strconv.Itoa(n)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// doRevoke: [5/5] remove the companion variable (if any), redeploy, then
// revoke the previous credential at the provider.
func (e *Engine) doRevoke(ctx context.Context, r store.Rotation) (store.Rotation, error) {
	e.step(stepRevoke, titleRevoke, "start", "")
	old, err := e.currentCredential(ctx, r)
	if err != nil {
		return r, err
	}
	if r.NewMeta[metaRevoking] == "" {
		// Journal before acting: once the old credential may be gone,
		// --abort must finish the rotation instead of restoring it.
		meta := copyMeta(r.NewMeta)
		meta[metaRevoking] = "true"
		nr, err := e.st.AdvanceRotation(ctx, r.ID, r.Fence, store.RotationUpdate{NewMeta: meta},
			audit.Record{Actor: e.o.Env.Actor(), Action: "rotate.revoking", Name: r.Name, Detail: map[string]any{"rotation": r.ID}})
		if err != nil {
			return r, fmt.Errorf("rotation %s: record revoking: %w", r.ID, err)
		}
		r = nr
	}
	if e.previous != "" {
		res, err := e.o.Env.Apply(ctx, environment.Change{Kind: store.KindRotate, Message: "rotate " + r.Name + ": drop " + e.previous + " (" + r.ID + ")",
			Unset: []string{e.previous}, Detail: map[string]any{"rotation": r.ID}})
		var version int64
		switch {
		case errors.Is(err, store.ErrNotFound):
			head, herr := e.o.Env.Head(ctx)
			if herr != nil {
				return r, herr
			}
			version = head.Version
		case err != nil:
			return r, err
		default:
			version = res.Version.Version
		}
		if err := e.deployAll(ctx, r, version, nil, []string{e.previous}); err != nil {
			e.step(stepRevoke, titleRevoke, "fail", err.Error())
			return r, err
		}
	}
	if err := e.prov.Revoke(ctx, old); err != nil {
		e.step(stepRevoke, titleRevoke, "fail", err.Error())
		return r, fmt.Errorf("revoke the previous credential: %w", err)
	}
	return e.advance(ctx, r, StateRevoked, store.RotationUpdate{}, nil)
}

// doRollback restores the previous value as a new version, redeploys, and
// revokes the new credential. Every part observes first.
func (e *Engine) doRollback(ctx context.Context, r store.Rotation) (store.Rotation, error) {
	e.info("rolling back: " + r.LastError)
	base, _ := strconv.ParseInt(r.OldMeta[metaBaseVersion], 10, 64)
	names := []string{r.Name}
	if e.previous != "" {
		if _, err := e.o.Env.Store().Value(ctx, e.envID(), e.previous, mustHead(ctx, e.o.Env)); err == nil {
			names = append(names, e.previous)
		} else if _, err := e.o.Env.Store().Value(ctx, e.envID(), e.previous, base); err == nil {
			names = append(names, e.previous)
		}
	}
	res, err := e.o.Env.Rollback(ctx, base, names, "rollback of "+r.ID)
	version := res.Version.Version
	switch {
	case errors.Is(err, environment.ErrNoChange):
		version = mustHead(ctx, e.o.Env)
	case err != nil:
		return r, err
	}
	old, err := e.currentCredential(ctx, r)
	if err != nil {
		return r, err
	}
	set := map[string]secret.Value{r.Name: old.Value}
	var unset []string
	if e.previous != "" {
		if pv, _, err := e.o.Env.Get(ctx, e.previous, 0); err == nil {
			set[e.previous] = pv
		} else {
			unset = append(unset, e.previous)
		}
	}
	if err := e.deployAll(ctx, r, version, set, unset); err != nil {
		return r, err
	}
	if len(r.PendingCiphertext) == 0 && r.NewMeta[metaAdopt] != "" {
		if r, err = e.adoptCreated(ctx, r); err != nil {
			return r, err
		}
	}
	if len(r.PendingCiphertext) > 0 {
		newCred, err := e.newCredential(r)
		if err != nil {
			return r, err
		}
		if err := e.prov.Revoke(ctx, newCred); err != nil {
			return r, fmt.Errorf("revoke the new credential: %w", err)
		}
	}
	r, err = e.advance(ctx, r, StateRolledBack, store.RotationUpdate{}, map[string]any{"restored_version": version, "reason": r.LastError})
	if err != nil {
		return r, err
	}
	e.info(fmt.Sprintf("rolled back: %s restored as v%d, %d %s redeployed, new credential revoked; the previous credential was never touched",
		r.Name, version, len(e.targets), plural(len(e.targets), "target", "targets")))
	return r, nil
}

// adoptCreated asks the provider, during the rollback of a rotation aborted
// at planned, for the credential it may have made before a crash the
// journal did not record (invariant 2: nothing orphaned). Create is
// idempotent per rotation id, so this returns that credential, or makes one
// that the rollback then revokes. The value is journaled before it is
// revoked. When Create fails there is nothing we could revoke: the rollback
// goes on.
func (e *Engine) adoptCreated(ctx context.Context, r store.Rotation) (store.Rotation, error) {
	cur, err := e.currentCredential(ctx, r)
	if err != nil {
		return r, err
	}
	cred, err := e.prov.Create(ctx, provider.CreateRequest{RotationID: r.ID, Env: e.o.Env.Name(), Name: r.Name, Current: cur})
	if err != nil {
		e.info("could not ask " + e.prov.Kind() + " for a credential made for " + r.ID + ": " + err.Error())
		return r, nil
	}
	sealed, err := e.sealPending(r.ID, cred.Value)
	if err != nil {
		return r, err
	}
	meta := copyMeta(r.NewMeta)
	for k, v := range cred.Meta {
		meta[k] = v
	}
	nr, err := e.st.AdvanceRotation(ctx, r.ID, r.Fence, store.RotationUpdate{PendingCiphertext: sealed, NewMeta: meta},
		audit.Record{Actor: e.o.Env.Actor(), Action: "rotate.adopted", Name: r.Name, Outcome: audit.OutcomeFailed, Detail: map[string]any{"rotation": r.ID}})
	if err != nil {
		return r, fmt.Errorf("rotation %s: record the adopted credential: %w", r.ID, err)
	}
	return nr, nil
}

func mustHead(ctx context.Context, env *environment.Env) int64 {
	h, _ := env.Head(ctx)
	return h.Version
}
