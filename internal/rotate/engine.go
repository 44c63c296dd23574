package rotate

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/slickenv/slickenv/internal/audit"
	"github.com/slickenv/slickenv/internal/config"
	"github.com/slickenv/slickenv/internal/deploy"
	"github.com/slickenv/slickenv/internal/environment"
	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/store"
	"github.com/slickenv/slickenv/internal/verify"
)

// Options configure an Engine.
type Options struct {
	Env      *environment.Env // opened and unlocked
	Config   *config.Config
	Name     string
	Registry *provider.Registry
	Reporter Reporter
	// Window overrides verify.window when non-nil.
	Window *time.Duration
	// LeaseTTL is how long a lease lasts without renewal (default 15s).
	LeaseTTL time.Duration
	// ForceRevoke ends the sessions still using the old credential when the
	// drain times out (providers that implement provider.Terminator),
	// instead of rolling back.
	ForceRevoke bool
	// Failpoint, for crash tests: after the journal enters this state (or
	// "create": right after the provider created the credential, before
	// the journal records it) the process kills itself with SIGKILL.
	Failpoint string
}

// Engine runs rotations of one variable.
type Engine struct {
	o     Options
	st    store.Store
	owner string
	rep   Reporter

	// resolved by prepare
	secret   config.Secret
	prov     provider.Provider
	targets  []deploy.Target
	checks   []verify.Check
	window   time.Duration
	previous string // companion variable, "" when none
	detected bool   // the provider was detected from the value, not configured

	old *provider.Credential // cached by currentCredential
}

// New returns an engine. It does nothing until Plan, Start, Resume, Abort
// or Approve is called.
func New(o Options) *Engine {
	if o.LeaseTTL == 0 {
		o.LeaseTTL = 15 * time.Second
	}
	rep := o.Reporter
	if rep == nil {
		rep = ReporterFunc(func(Event) {})
	}
	host, _ := os.Hostname()
	return &Engine{o: o, st: o.Env.Store(), rep: rep, owner: fmt.Sprintf("%s:%d:%s", host, os.Getpid(), randomID(4))}
}

func randomID(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// prepare resolves the provider, its settings, targets and checks. It
// changes nothing and fails with a clear error (ErrNotConfigured, a
// provider.ErrSettings, an unknown ${NAME}) before any change.
func (e *Engine) prepare(ctx context.Context) error {
	if e.prov != nil {
		return nil
	}
	sec, ok := e.o.Config.Secrets[e.o.Name]
	if !ok {
		sec = config.Secret{Verify: config.Verify{Window: config.DefaultWindow}}
	}
	if sec.Provider == "" {
		// Config always wins; without it, the value's shape may name exactly
		// one provider.
		kind, err := e.detect(ctx)
		if err != nil {
			return err
		}
		sec.Provider, e.detected = kind, true
	}
	e.secret = sec
	settings := sec.With
	if refs := config.SettingsRefs(sec.With); len(refs) > 0 {
		vals := map[string]string{}
		for _, ref := range refs {
			v, _, err := e.o.Env.Get(ctx, ref, 0)
			if errors.Is(err, store.ErrNotFound) {
				return fmt.Errorf("secrets.%s.with refers to ${%s}, which is not set in %s: %w", e.o.Name, ref, e.o.Env.Name(), ErrNotConfigured)
			}
			if err != nil {
				return err
			}
			vals[ref] = v.Reveal()
		}
		var err error
		settings, err = config.ExpandSettings(sec.With, func(n string) (string, bool) { v, ok := vals[n]; return v, ok })
		if err != nil {
			return fmt.Errorf("secrets.%s.with: %w", e.o.Name, err)
		}
	}
	p, err := e.o.Registry.New(sec.Provider, provider.Settings(settings))
	if err != nil {
		if e.detected {
			return fmt.Errorf("secrets.%s (provider detected from the value; set secrets.%s.provider and .with): %w", e.o.Name, e.o.Name, err)
		}
		return fmt.Errorf("secrets.%s: %w", e.o.Name, err)
	}
	baseDir := e.baseDir()
	targets, err := deploy.FromConfig(sec.Targets, baseDir)
	if err != nil {
		return fmt.Errorf("secrets.%s.targets: %w", e.o.Name, err)
	}
	checks, err := verify.FromConfig(sec.Verify.Checks, baseDir)
	if err != nil {
		return fmt.Errorf("secrets.%s.verify: %w", e.o.Name, err)
	}
	e.prov, e.targets, e.checks = p, targets, checks
	e.window = sec.Verify.Window.Std()
	if e.o.Window != nil {
		e.window = *e.o.Window
	}
	if c, ok := p.(provider.Companion); ok {
		e.previous = c.PreviousName(e.o.Name)
	}
	if sec.Verify.Drain != nil {
		if _, ok := p.(provider.UsageReporter); !ok {
			return fmt.Errorf("secrets.%s.verify.drain: provider %s cannot report who uses a credential; remove drain: %w", e.o.Name, p.Kind(), ErrNotConfigured)
		}
	}
	return nil
}

// detect picks the provider of a secret that names none: the one
// registered detector that recognises the current value (an audited read,
// like the ${NAME} references). None or several is ErrNotConfigured.
func (e *Engine) detect(ctx context.Context) (string, error) {
	hint := fmt.Sprintf("add secrets.%s.provider to %s", e.o.Name, config.FileName)
	v, _, err := e.o.Env.Get(ctx, e.o.Name, 0)
	if errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("%s has no rotation provider and is not set in %s: %s: %w", e.o.Name, e.o.Env.Name(), hint, ErrNotConfigured)
	}
	if err != nil {
		return "", err
	}
	switch kinds := e.o.Registry.Detect(v); len(kinds) {
	case 1:
		return kinds[0], nil
	case 0:
		return "", fmt.Errorf("%s has no rotation provider and its value matches none: %s: %w", e.o.Name, hint, ErrNotConfigured)
	default:
		return "", fmt.Errorf("%s has no rotation provider and its value matches several (%s): %s: %w", e.o.Name, strings.Join(kinds, ", "), hint, ErrNotConfigured)
	}
}

// kindDetail is the provider kind as step [1/5] reports it.
func (e *Engine) kindDetail() string {
	if e.detected {
		return e.prov.Kind() + " (detected from the value's shape; set secrets." + e.o.Name + ".provider to pin it)"
	}
	return e.prov.Kind()
}

// baseDir is the directory of .slickenv.yaml: relative paths in it are
// relative to that directory.
func (e *Engine) baseDir() string {
	if e.o.Config.Path == "" {
		return "."
	}
	return dirOf(e.o.Config.Path)
}

func dirOf(path string) string {
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		return path[:i]
	}
	return "."
}

// Plan describes what a rotation would do and how it would be undone.
type Plan struct {
	Name     string
	Env      string
	Provider string
	Steps    []string
	Rollback []string
}

// Plan resolves everything a rotation needs and returns the plan; it
// changes nothing (`--dry-run`).
func (e *Engine) Plan(ctx context.Context) (Plan, error) {
	if err := e.prepare(ctx); err != nil {
		return Plan{}, err
	}
	// Only whether the variable is set matters here: reading its value
	// would append a "get" audit entry, and a dry run changes nothing.
	head, err := e.o.Env.Head(ctx)
	if err != nil {
		return Plan{}, err
	}
	if _, err := e.st.Value(ctx, e.envID(), e.o.Name, head.Version); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			err = store.Errorf(store.ErrNotFound, "%s is not set in %s", e.o.Name, e.o.Env.Name())
		}
		return Plan{}, fmt.Errorf("rotate %s: the current value is needed: %w", e.o.Name, err)
	}
	if c, ok := e.prov.(provider.Checker); ok {
		// The check needs the current credential: an audited read, like the
		// ${NAME} references above.
		v, _, err := e.o.Env.Get(ctx, e.o.Name, 0)
		if err != nil {
			return Plan{}, err
		}
		if err := c.Check(ctx, provider.Credential{Value: v, Meta: e.lastMeta(ctx)}); err != nil {
			return Plan{}, fmt.Errorf("rotate %s: %s cannot rotate it yet: %w", e.o.Name, e.prov.Kind(), err)
		}
	}
	return e.plan(), nil
}

func (e *Engine) plan() Plan {
	n, env := e.o.Name, e.o.Env.Name()
	var tdesc []string
	for _, t := range e.targets {
		tdesc = append(tdesc, t.Describe())
	}
	var cdesc []string
	for _, c := range e.checks {
		cdesc = append(cdesc, c.Describe())
	}
	newVars := n + " (new)"
	if e.previous != "" {
		newVars += " and " + e.previous + " (old)"
	}
	steps := []string{
		fmt.Sprintf("detect: provider %s for %s in %s", e.prov.Kind(), n, env),
		fmt.Sprintf("create: a new credential with %s while the old one stays valid (journaled before use)", e.prov.Kind()),
		fmt.Sprintf("update: write a new version of %s with %s; deploy to %s", env, newVars, listOr(tdesc, "no targets")),
		fmt.Sprintf("verify: provider test, then %s for %s", listOr(cdesc, "no checks"), e.window),
	}
	if d := e.secret.Verify.Drain; d != nil {
		steps = append(steps, fmt.Sprintf("drain: wait up to %s until no session uses the previous credential (then roll back, or with --force-revoke end them)", d.Timeout))
	}
	if e.secret.Verify.Manual() {
		steps = append(steps, "approve: wait for `slickenv rotate "+n+" --approve` with both credentials valid")
	}
	revoke := "revoke: the previous credential at " + e.prov.Kind()
	if e.previous != "" {
		revoke = "revoke: remove " + e.previous + ", redeploy, then revoke the previous credential"
	}
	steps = append(steps, revoke)
	rollback := []string{
		fmt.Sprintf("restore %s's previous value as a new version of %s (kind rollback)", n, env),
		"redeploy " + listOr(tdesc, "(no targets)"),
		"revoke the new credential at " + e.prov.Kind(),
		"the previous credential was never touched: consumers keep working",
	}
	return Plan{Name: n, Env: env, Provider: e.prov.Kind(), Steps: steps, Rollback: rollback}
}

func listOr(items []string, none string) string {
	if len(items) == 0 {
		return none
	}
	return strings.Join(items, ", ")
}

// Start begins a new rotation and drives it to done, rolled back or
// awaiting approval. A running rotation of the variable gives
// *RunningError; an unfinished one *UnfinishedError.
func (e *Engine) Start(ctx context.Context) (Outcome, error) {
	if open, err := e.st.OpenRotation(ctx, e.envID(), e.o.Name); err == nil {
		return "", e.busy(open)
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	if err := e.prepare(ctx); err != nil {
		e.step(stepDetect, titleDetect, "fail", err.Error())
		return "", err
	}
	oldValue, oldVar, err := e.o.Env.Get(ctx, e.o.Name, 0)
	if err != nil {
		e.step(stepDetect, titleDetect, "fail", err.Error())
		return "", fmt.Errorf("rotate %s: %w", e.o.Name, err)
	}
	plan := e.plan()
	id := "rot_" + time.Now().UTC().Format("20060102T150405") + "_" + randomID(4)
	e.rep.Event(Event{Kind: "plan", Rotation: id, Name: plan.Name, Env: plan.Env, Provider: plan.Provider, Steps: plan.Steps, Rollback: plan.Rollback})
	e.step(stepDetect, titleDetect, "start", "")
	e.step(stepDetect, titleDetect, "ok", e.kindDetail())

	head, err := e.o.Env.Head(ctx)
	if err != nil {
		return "", err
	}
	r := store.Rotation{
		ID: id, EnvID: e.envID(), Name: e.o.Name, Provider: e.prov.Kind(), State: StatePlanned,
		OldMeta:    e.lastMeta(ctx),
		NewMeta:    map[string]string{},
		LeaseOwner: e.owner, LeaseUntil: time.Now().Add(e.o.LeaseTTL),
	}
	r.OldMeta[metaBaseVersion] = strconv.FormatInt(head.Version, 10)
	r.OldMeta[metaOldValueVersion] = strconv.FormatInt(oldVar.Version, 10)
	e.old = &provider.Credential{Value: oldValue, Meta: providerMeta(r.OldMeta)}
	// Invariant 2: a value we generate is sealed into the journal before the
	// provider is asked to accept it.
	if g, ok := e.prov.(provider.Generator); ok {
		v, err := g.Generate()
		if err != nil {
			return "", fmt.Errorf("rotate %s: generate: %w", e.o.Name, err)
		}
		if r.PendingCiphertext, err = e.sealPending(id, v); err != nil {
			return "", err
		}
	}
	r, err = e.st.StartRotation(ctx, r, audit.Record{Actor: e.o.Env.Actor(), Action: "rotate." + StatePlanned, Name: e.o.Name,
		Detail: map[string]any{"rotation": id, "provider": e.prov.Kind(), "steps": plan.Steps, "rollback": plan.Rollback}})
	var be *store.BusyError
	if errors.As(err, &be) {
		return "", e.busy(be.Existing)
	}
	if err != nil {
		return "", err
	}
	e.state(r)
	e.failpoint(StatePlanned)
	return e.run(ctx, r)
}

// Resume takes over an unfinished rotation whose holder is gone and drives
// it to its end.
func (e *Engine) Resume(ctx context.Context) (Outcome, error) {
	r, err := e.takeOver(ctx, "rotate.resume")
	if err != nil {
		return "", err
	}
	if err := e.prepare(ctx); err != nil {
		// Without a provider we cannot finish; leave the journal as it is.
		return "", err
	}
	e.step(stepDetect, titleDetect, "ok", e.prov.Kind()+" (resuming "+r.ID+" from "+r.State+")")
	return e.run(ctx, r)
}

// Abort rolls back an unfinished rotation (before revoked; after it, the
// old credential is already gone and Abort finishes the rotation instead).
func (e *Engine) Abort(ctx context.Context) (Outcome, error) {
	r, err := e.takeOver(ctx, "rotate.abort")
	if err != nil {
		return "", err
	}
	if err := e.prepare(ctx); err != nil {
		return "", err
	}
	switch {
	case r.State == StateRevoked:
		e.info("the previous credential is already revoked: finishing the rotation instead of rolling back")
		return e.run(ctx, r)
	case r.State == StateVerified && r.NewMeta[metaRevoking] != "":
		// A crash in the middle of [5/5]: the old credential may be revoked
		// at its source already, and restoring it would leave consumers
		// with none that works.
		e.info("revoking the previous credential had begun, so it may already be revoked: finishing the rotation instead of rolling back")
		return e.run(ctx, r)
	}
	if r.State != StateRollingBack {
		msg := "aborted by " + e.o.Env.Actor()
		u := store.RotationUpdate{LastError: &msg}
		if r.State == StatePlanned && len(r.PendingCiphertext) == 0 {
			// The provider makes the value, and a crash may have come after
			// it made one and before the journal recorded it: the rollback
			// asks for it again to revoke it (see adoptCreated).
			u.NewMeta = copyMeta(r.NewMeta)
			u.NewMeta[metaAdopt] = "true"
		}
		if r, err = e.advance(ctx, r, StateRollingBack, u, map[string]any{"reason": msg}); err != nil {
			return "", err
		}
	}
	return e.run(ctx, r)
}

// Approve lets a rotation waiting for approval revoke the old credential.
func (e *Engine) Approve(ctx context.Context) (Outcome, error) {
	r, err := e.takeOver(ctx, "rotate.approve")
	if err != nil {
		return "", err
	}
	if err := e.prepare(ctx); err != nil {
		return "", err
	}
	if r.State != StateAwaitingApproval {
		e.rel(r)
		return "", fmt.Errorf("rotation %s is %s, not awaiting approval", r.ID, r.State)
	}
	if r, err = e.advance(ctx, r, StateVerified, store.RotationUpdate{}, map[string]any{"approved_by": e.o.Env.Actor()}); err != nil {
		return "", err
	}
	return e.run(ctx, r)
}

func (e *Engine) envID() int64 { return e.o.Env.ID() }

// busy classifies an existing unfinished rotation: running (live lease) or
// unfinished (nobody holds it).
func (e *Engine) busy(r store.Rotation) error {
	if leaseLive(r, time.Now()) {
		return &RunningError{Rotation: r}
	}
	return &UnfinishedError{Rotation: r}
}

// leaseLive reports whether r's lease holder is alive: the lease has not
// expired and, when the holder is on this host, its process still exists.
func leaseLive(r store.Rotation, now time.Time) bool {
	if r.LeaseOwner == "" || !now.Before(r.LeaseUntil) {
		return false
	}
	parts := strings.Split(r.LeaseOwner, ":")
	if len(parts) >= 2 {
		host, _ := os.Hostname()
		if parts[0] == host {
			pid, err := strconv.Atoi(parts[1])
			if err == nil && pid > 0 && syscall.Kill(pid, 0) == syscall.ESRCH {
				return false // same host, process gone: stale at once
			}
		}
	}
	return true
}

// takeOver finds the variable's unfinished rotation and takes its lease.
func (e *Engine) takeOver(ctx context.Context, action string) (store.Rotation, error) {
	r, err := e.st.OpenRotation(ctx, e.envID(), e.o.Name)
	if errors.Is(err, store.ErrNotFound) {
		return r, store.Errorf(store.ErrNotFound, "%s in %s has no unfinished rotation", e.o.Name, e.o.Env.Name())
	}
	if err != nil {
		return r, err
	}
	if leaseLive(r, time.Now()) {
		return r, &RunningError{Rotation: r}
	}
	r, err = e.st.TakeLease(ctx, r.ID, e.owner, time.Now().Add(e.o.LeaseTTL), r.Fence,
		audit.Record{Actor: e.o.Env.Actor(), Action: action, Name: e.o.Name, Detail: map[string]any{"rotation": r.ID, "state": r.State}})
	if errors.Is(err, store.ErrConflict) {
		if cur, gerr := e.st.Rotation(ctx, r.ID); gerr == nil {
			return cur, &RunningError{Rotation: cur}
		}
	}
	return r, err
}
