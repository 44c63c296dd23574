package rotate_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slickenv/slickenv/internal/audit"
	"github.com/slickenv/slickenv/internal/config"
	"github.com/slickenv/slickenv/internal/crypto"
	"github.com/slickenv/slickenv/internal/dotenv"
	"github.com/slickenv/slickenv/internal/environment"
	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/provider/all"
	"github.com/slickenv/slickenv/internal/rotate"
	"github.com/slickenv/slickenv/internal/secret"
	"github.com/slickenv/slickenv/internal/store"
	"github.com/slickenv/slickenv/internal/store/sqlstore"
)

const (
	secretName = "WEBHOOK_SECRET"
	prevName   = "WEBHOOK_SECRET_PREVIOUS"
	oldValue   = "whsec_the_old_value_0123456789"
)

// fixture is a project with a real sqlite store, an unlocked environment
// holding WEBHOOK_SECRET, and a dotenv file that the rotation deploys to.
type fixture struct {
	t      *testing.T
	dir    string
	st     *sqlstore.Store
	env    *environment.Env
	cfg    *config.Config
	dotenv string
	// health is the status the check server answers with.
	mu     sync.Mutex
	health int
	srv    *httptest.Server
	// registry builds the providers; tests may register more kinds.
	registry *provider.Registry
}

// configTemplate rotates WEBHOOK_SECRET with the random provider, deploys
// it to app.env and polls the fixture's server for the window.
const configTemplate = `project: shop
secrets:
  WEBHOOK_SECRET:
    provider: random
    with: { length: 16, encoding: hex, prefix: "whsec_" }
    targets:
      - dotenv: ./app.env
    verify:
      window: 150ms
      checks:
        - http: { url: "%s", every: 20ms, min_success: 1.0 }
`

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlstore.OpenSQLite(ctx, filepath.Join(dir, "shop.db"), sqlstore.SQLiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := environment.Create(ctx, st, "shop", "production", "tester", []string{id.Recipient()}); err != nil {
		t.Fatal(err)
	}
	env, err := environment.Open(ctx, st, "shop", "production", "tester")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Unlock(ctx, id); err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, dir: dir, st: st, env: env, dotenv: filepath.Join(dir, "app.env"), health: http.StatusOK, registry: all.Registry()}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		defer f.mu.Unlock()
		w.WriteHeader(f.health)
	}))
	t.Cleanup(f.srv.Close)
	f.setConfig(fmt.Sprintf(configTemplate, f.srv.URL))
	if _, err := env.Apply(ctx, environment.Change{Kind: store.KindSet, Set: []environment.Pair{{Name: secretName, Value: secret.New(oldValue)}}}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f.dotenv, []byte("# the app's settings\n"+secretName+"="+oldValue+"\nPORT=8080\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) setConfig(yaml string) {
	f.t.Helper()
	path := filepath.Join(f.dir, config.FileName)
	cfg, err := config.Parse([]byte(yaml), path)
	if err != nil {
		f.t.Fatal(err)
	}
	cfg.Path = path
	f.cfg = cfg
}

func (f *fixture) setHealth(code int) {
	f.mu.Lock()
	f.health = code
	f.mu.Unlock()
}

// engine returns an engine whose reporter records every event and calls
// stop (may be nil) on each state event.
func (f *fixture) engine(events *[]rotate.Event, onState func(string)) *rotate.Engine {
	var mu sync.Mutex
	return rotate.New(rotate.Options{
		Env: f.env, Config: f.cfg, Name: secretName, Registry: f.registry,
		LeaseTTL: 150 * time.Millisecond,
		Reporter: rotate.ReporterFunc(func(e rotate.Event) {
			mu.Lock()
			defer mu.Unlock()
			if events != nil {
				*events = append(*events, e)
			}
			if e.Kind == "state" && onState != nil {
				onState(e.State)
			}
		}),
	})
}

// value reads a variable at the head without an audit entry's noise in the
// caller; ok is false when it is not set.
func (f *fixture) value(name string) (string, bool) {
	f.t.Helper()
	v, _, err := f.env.Get(context.Background(), name, 0)
	if errors.Is(err, store.ErrNotFound) {
		return "", false
	}
	if err != nil {
		f.t.Fatal(err)
	}
	return v.Reveal(), true
}

func (f *fixture) dotenvEntries() map[string]string {
	f.t.Helper()
	data, err := os.ReadFile(f.dotenv)
	if err != nil {
		f.t.Fatal(err)
	}
	entries, err := dotenv.Parse(data, dotenv.ParseOptions{Filename: f.dotenv})
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		out[e.Key] = e.Value
	}
	return out
}

func (f *fixture) versions() []store.EnvVersion {
	f.t.Helper()
	vs, err := f.st.Versions(context.Background(), f.env.ID(), store.VersionQuery{})
	if err != nil {
		f.t.Fatal(err)
	}
	return vs
}

func (f *fixture) auditHead() audit.Head {
	f.t.Helper()
	h, err := f.st.AuditHead(context.Background(), "shop")
	if err != nil {
		f.t.Fatal(err)
	}
	return h
}

func (f *fixture) auditActions() []string {
	f.t.Helper()
	entries, err := f.st.Audit(context.Background(), "shop", store.AuditQuery{})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Action)
	}
	return out
}

// rotation returns the variable's only rotation.
func (f *fixture) rotation() store.Rotation {
	f.t.Helper()
	rs, err := f.st.Rotations(context.Background(), f.env.ID(), 0)
	if err != nil {
		f.t.Fatal(err)
	}
	if len(rs) != 1 {
		f.t.Fatalf("%d rotations in the journal, want 1", len(rs))
	}
	return rs[0]
}

// interruptAt starts a rotation and stops it right after the journal
// reached state, as a crash there would (the context is cancelled, so the
// engine stops at its next step boundary without rolling back). It then
// waits out the lease, like a holder that died.
func (f *fixture) interruptAt(state string) store.Rotation {
	f.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	eng := f.engine(nil, func(s string) {
		if s == state {
			cancel()
		}
	})
	outcome, err := eng.Start(ctx)
	if err == nil {
		f.t.Fatalf("Start finished (%s) instead of stopping at %s", outcome, state)
	}
	r := f.rotation()
	if r.State != state {
		f.t.Fatalf("journal is at %s, want %s (err %v)", r.State, state, err)
	}
	time.Sleep(200 * time.Millisecond) // past the 150ms lease
	return r
}

// rewind moves the journal back to state, as if the process had acted in
// the step after state and died before recording it.
func (f *fixture) rewind(r store.Rotation, state string) {
	f.t.Helper()
	cur, err := f.st.Rotation(context.Background(), r.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	if _, err := f.st.AdvanceRotation(context.Background(), r.ID, cur.Fence, store.RotationUpdate{State: state},
		audit.Record{Actor: "test", Action: "test.rewind", Name: secretName}); err != nil {
		f.t.Fatal(err)
	}
}

// checkDone checks the state after a finished rotation: a new value in the
// store and in the dotenv file, no companion variable anywhere, exactly two
// rotate versions after the base one, and an intact audit chain.
func (f *fixture) checkDone() {
	f.t.Helper()
	got, _ := f.value(secretName)
	if got == oldValue || !strings.HasPrefix(got, "whsec_") {
		f.t.Errorf("%s = %q after the rotation", secretName, got)
	}
	if _, ok := f.value(prevName); ok {
		f.t.Errorf("%s is still set after the rotation", prevName)
	}
	file := f.dotenvEntries()
	if file[secretName] != got {
		f.t.Errorf("app.env has %s=%q, the store %q", secretName, file[secretName], got)
	}
	if _, ok := file[prevName]; ok {
		f.t.Errorf("app.env still has %s", prevName)
	}
	if file["PORT"] != "8080" {
		f.t.Errorf("app.env lost its other entries: %v", file)
	}
	var kinds []string
	for _, v := range f.versions() {
		kinds = append(kinds, v.Kind)
	}
	if want := []string{store.KindRotate, store.KindRotate, store.KindSet}; strings.Join(kinds, ",") != strings.Join(want, ",") {
		f.t.Errorf("versions (newest first) are %v, want %v: a step wrote twice", kinds, want)
	}
	if r := f.rotation(); r.State != rotate.StateDone {
		f.t.Errorf("journal state %s, want done", r.State)
	}
	f.checkChain()
}

func (f *fixture) checkChain() {
	f.t.Helper()
	entries, err := f.st.Audit(context.Background(), "shop", store.AuditQuery{})
	if err != nil {
		f.t.Fatal(err)
	}
	if err := audit.Verify(entries, f.auditHead()); err != nil {
		f.t.Errorf("audit chain: %v", err)
	}
}

func TestRotateDone(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var events []rotate.Event
	outcome, err := f.engine(&events, nil).Start(context.Background())
	if err != nil || outcome != rotate.OutcomeDone {
		t.Fatalf("Start = %s, %v", outcome, err)
	}
	f.checkDone()
	var states []string
	for _, e := range events {
		if e.Kind == "state" {
			states = append(states, e.State)
		}
		if strings.Contains(fmt.Sprintf("%+v", e), oldValue) {
			t.Errorf("event %+v contains the old value", e)
		}
	}
	want := "planned,created,distributed,deployed,verified,revoked,done"
	if got := strings.Join(states, ","); got != want {
		t.Errorf("states %s, want %s", got, want)
	}
	if events[0].Kind != "plan" || len(events[0].Rollback) == 0 {
		t.Errorf("the first event is not a plan with rollback steps: %+v", events[0])
	}
}

// TestResumeRepeatsNoStep stops a rotation right after each state, and
// also rewinds the journal by one state (as if the process had done the
// next step's work and died before recording it), then resumes: every step
// observes before acting, so nothing is written twice.
func TestResumeRepeatsNoStep(t *testing.T) {
	t.Parallel()
	cases := []struct {
		stopAt, rewindTo string
	}{
		{rotate.StatePlanned, ""},
		{rotate.StateCreated, ""},
		{rotate.StateCreated, rotate.StatePlanned},
		{rotate.StateDistributed, ""},
		{rotate.StateDistributed, rotate.StateCreated}, // the new version is written again?
		{rotate.StateDeployed, ""},
		{rotate.StateDeployed, rotate.StateDistributed}, // deployed twice
		{rotate.StateVerified, ""},
		{rotate.StateRevoked, ""},
		{rotate.StateRevoked, rotate.StateVerified}, // companion dropped twice?
	}
	for _, c := range cases {
		name := "stop at " + c.stopAt
		if c.rewindTo != "" {
			name += ", rewind to " + c.rewindTo
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			r := f.interruptAt(c.stopAt)
			if c.rewindTo != "" {
				f.rewind(r, c.rewindTo)
			}
			// The new value is journaled and, from distributed on, live:
			// resume must keep it rather than make another.
			var pending string
			if c.stopAt != rotate.StatePlanned && c.stopAt != rotate.StateCreated {
				pending, _ = f.value(secretName)
			}
			var events []rotate.Event
			eng := f.engine(&events, nil)
			if _, err := eng.Start(context.Background()); err == nil {
				t.Fatal("Start succeeded over an unfinished rotation")
			} else if ue := (*rotate.UnfinishedError)(nil); !errors.As(err, &ue) || ue.Rotation.ID != r.ID {
				t.Fatalf("Start over an unfinished rotation: %v, want *UnfinishedError naming %s", err, r.ID)
			}
			outcome, err := eng.Resume(context.Background())
			if err != nil || outcome != rotate.OutcomeDone {
				t.Fatalf("Resume = %s, %v", outcome, err)
			}
			f.checkDone()
			if got, _ := f.value(secretName); pending != "" && got != pending {
				t.Errorf("resume replaced the distributed value")
			}
			// Resuming a finished rotation finds nothing to do.
			if _, err := f.engine(nil, nil).Resume(context.Background()); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("Resume after done: %v, want ErrNotFound", err)
			}
		})
	}
}

// TestVerificationFailureRollsBack makes the health check fail: the old
// value comes back as one rollback version and in the dotenv file, and
// running the rollback step again writes nothing more.
func TestVerificationFailureRollsBack(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.setHealth(http.StatusInternalServerError)
	outcome, err := f.engine(nil, nil).Start(context.Background())
	var fe *rotate.FailedError
	if outcome != rotate.OutcomeRolledBack || !errors.Is(err, rotate.ErrRolledBack) || !errors.As(err, &fe) {
		t.Fatalf("Start = %s, %v; want rolled back", outcome, err)
	}
	if strings.Contains(err.Error(), oldValue) {
		t.Errorf("error contains the old value: %v", err)
	}
	f.checkRolledBack()

	// The rollback step again (a crash after it acted, before recording
	// rolled_back): nothing new is written.
	r := f.rotation()
	f.rewind(r, rotate.StateRollingBack)
	outcome, err = f.engine(nil, nil).Resume(context.Background())
	if outcome != rotate.OutcomeRolledBack || !errors.Is(err, rotate.ErrRolledBack) {
		t.Fatalf("Resume = %s, %v", outcome, err)
	}
	f.checkRolledBack()

	// A new rotation works once the service is healthy.
	f.setHealth(http.StatusOK)
	rs, _ := f.st.Rotations(context.Background(), f.env.ID(), 0)
	if outcome, err := f.engine(nil, nil).Start(context.Background()); err != nil || outcome != rotate.OutcomeDone {
		t.Fatalf("Start after rollback = %s, %v", outcome, err)
	}
	if rs2, _ := f.st.Rotations(context.Background(), f.env.ID(), 0); len(rs2) != len(rs)+1 {
		t.Errorf("%d rotations, want %d", len(rs2), len(rs)+1)
	}
}

func (f *fixture) checkRolledBack() {
	f.t.Helper()
	if got, _ := f.value(secretName); got != oldValue {
		f.t.Errorf("%s is not the old value after rollback", secretName)
	}
	if _, ok := f.value(prevName); ok {
		f.t.Errorf("%s is set after rollback", prevName)
	}
	file := f.dotenvEntries()
	if file[secretName] != oldValue {
		f.t.Errorf("app.env does not hold the old value after rollback")
	}
	if _, ok := file[prevName]; ok {
		f.t.Errorf("app.env still has %s", prevName)
	}
	var kinds []string
	for _, v := range f.versions() {
		kinds = append(kinds, v.Kind)
	}
	if want := "rollback,rotate,set"; strings.Join(kinds, ",") != want {
		f.t.Errorf("versions (newest first) are %v, want %s", kinds, want)
	}
	if r := f.rotation(); r.State != rotate.StateRolledBack {
		f.t.Errorf("journal state %s, want rolled_back", r.State)
	}
	actions := strings.Join(f.auditActions(), " ")
	for _, a := range []string{"rotate.rolling_back", "rotate.rolled_back"} {
		if !strings.Contains(actions, a) {
			f.t.Errorf("audit has no %s entry", a)
		}
	}
	f.checkChain()
}

// TestAbortBeforeRevoke rolls back a rotation stopped at each state before
// revoked.
func TestAbortBeforeRevoke(t *testing.T) {
	t.Parallel()
	for _, state := range []string{rotate.StatePlanned, rotate.StateCreated, rotate.StateDistributed, rotate.StateDeployed, rotate.StateVerified} {
		t.Run(state, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.interruptAt(state)
			outcome, err := f.engine(nil, nil).Abort(context.Background())
			if outcome != rotate.OutcomeRolledBack || !errors.Is(err, rotate.ErrRolledBack) {
				t.Fatalf("Abort = %s, %v", outcome, err)
			}
			if got, _ := f.value(secretName); got != oldValue {
				t.Errorf("%s is not the old value after abort", secretName)
			}
			if _, ok := f.value(prevName); ok {
				t.Errorf("%s is set after abort", prevName)
			}
			if f.dotenvEntries()[secretName] != oldValue {
				t.Errorf("app.env does not hold the old value")
			}
			if r := f.rotation(); r.State != rotate.StateRolledBack {
				t.Errorf("journal state %s", r.State)
			}
			f.checkChain()
		})
	}
}

// TestStaleLeaseOfDeadProcess: a lease held by a process of this host that
// no longer exists is stale at once, long before it expires.
func TestStaleLeaseOfDeadProcess(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.interruptAt(rotate.StateDeployed)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	owner := fmt.Sprintf("%s:%d:deadbeef", host, dead.Process.Pid)
	if _, err := f.st.TakeLease(context.Background(), r.ID, owner, time.Now().Add(time.Hour), r.Fence, audit.Record{}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	outcome, err := f.engine(nil, nil).Resume(context.Background())
	if err != nil || outcome != rotate.OutcomeDone {
		t.Fatalf("Resume over a dead holder's hour-long lease = %s, %v", outcome, err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Resume took %s", d)
	}
	f.checkDone()
}

// TestLiveLeaseRefuses: while a rotation runs, another engine can neither
// start, resume nor abort it; the error names the running rotation.
func TestLiveLeaseRefuses(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	w := 1500 * time.Millisecond
	deployed := make(chan struct{})
	var once sync.Once
	eng := rotate.New(rotate.Options{Env: f.env, Config: f.cfg, Name: secretName, Registry: all.Registry(), Window: &w,
		LeaseTTL: 600 * time.Millisecond, // renewed every 200ms while it runs
		Reporter: rotate.ReporterFunc(func(e rotate.Event) {
			if e.Kind == "state" && e.State == rotate.StateDeployed {
				once.Do(func() { close(deployed) })
			}
		})})
	type result struct {
		outcome rotate.Outcome
		err     error
	}
	done := make(chan result, 1)
	go func() {
		o, err := eng.Start(context.Background())
		done <- result{o, err}
	}()
	<-deployed
	time.Sleep(800 * time.Millisecond) // past the TTL: only renewal keeps it live
	running := f.rotation()
	other := f.engine(nil, nil)
	for name, call := range map[string]func(context.Context) (rotate.Outcome, error){
		"Start": other.Start, "Resume": other.Resume, "Abort": other.Abort, "Approve": other.Approve,
	} {
		_, err := call(context.Background())
		var re *rotate.RunningError
		if !errors.As(err, &re) || re.Rotation.ID != running.ID || !errors.Is(err, store.ErrConflict) {
			t.Errorf("%s during a running rotation: %v, want *RunningError naming %s", name, err, running.ID)
		}
	}
	res := <-done
	if res.err != nil || res.outcome != rotate.OutcomeDone {
		t.Fatalf("the running rotation ended %s, %v", res.outcome, res.err)
	}
	f.checkDone()
}

// TestBadConfigChangesNothing: configuration errors are reported before
// the journal, the environment or the audit log change.
func TestBadConfigChangesNothing(t *testing.T) {
	t.Parallel()
	cases := map[string]struct{ yaml, want string }{
		"unknown provider": {"secrets:\n  WEBHOOK_SECRET:\n    provider: vault\n", `unknown provider "vault"`},
		"invalid setting":  {"secrets:\n  WEBHOOK_SECRET:\n    provider: random\n    with: { length: 3 }\n", "length"},
		"unknown setting":  {"secrets:\n  WEBHOOK_SECRET:\n    provider: random\n    with: { size: 32 }\n", "size"},
		"unresolvable reference": {"secrets:\n  WEBHOOK_SECRET:\n    provider: exec\n    with: { create: [./c.sh], env: { TOKEN: \"${ADMIN_TOKEN}\" } }\n",
			"${ADMIN_TOKEN}"},
		"missing setting": {"secrets:\n  WEBHOOK_SECRET:\n    provider: exec\n    with: { test: [./t.sh] }\n", "create"},
		"no provider":     {"secrets:\n  OTHER:\n    provider: random\n", "no rotation provider"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.setConfig("project: shop\n" + c.yaml)
			head, versions := f.auditHead(), len(f.versions())
			for op, call := range map[string]func(*rotate.Engine) error{
				"Start": func(e *rotate.Engine) error { _, err := e.Start(context.Background()); return err },
				"Plan":  func(e *rotate.Engine) error { _, err := e.Plan(context.Background()); return err },
			} {
				err := call(f.engine(nil, nil))
				if err == nil || !strings.Contains(err.Error(), c.want) {
					t.Errorf("%s: %v, want an error mentioning %q", op, err, c.want)
				}
			}
			if h := f.auditHead(); h.Seq != head.Seq {
				// Without a provider, step [1/5] reads the value to detect
				// one: audited gets of the variable, and nothing else.
				actions := f.auditActions()[head.Seq:]
				if name != "no provider" || slices.ContainsFunc(actions, func(a string) bool { return a != "get" }) {
					t.Errorf("the audit log grew from %d to %d entries: %v", head.Seq, h.Seq, actions)
				}
			}
			if n := len(f.versions()); n != versions {
				t.Errorf("%d versions, want %d", n, versions)
			}
			if rs, _ := f.st.Rotations(context.Background(), f.env.ID(), 0); len(rs) != 0 {
				t.Errorf("the journal has %d rotations", len(rs))
			}
		})
	}
}

// TestPlanChangesNothing: a dry run writes no version, no journal row and
// no audit entry, and describes the rollback.
func TestPlanChangesNothing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	head := f.auditHead()
	before, err := os.ReadFile(f.dotenv)
	if err != nil {
		t.Fatal(err)
	}
	plan, err := f.engine(nil, nil).Plan(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if plan.Provider != "random" || len(plan.Steps) < 5 || len(plan.Rollback) == 0 {
		t.Errorf("plan = %+v", plan)
	}
	if h := f.auditHead(); h.Seq != head.Seq {
		t.Errorf("the dry run appended %d audit entries", h.Seq-head.Seq)
	}
	if n := len(f.versions()); n != 1 {
		t.Errorf("%d versions after a dry run", n)
	}
	if rs, _ := f.st.Rotations(context.Background(), f.env.ID(), 0); len(rs) != 0 {
		t.Errorf("the dry run started a rotation")
	}
	if after, _ := os.ReadFile(f.dotenv); string(after) != string(before) {
		t.Errorf("the dry run changed app.env")
	}
}

// TestManualApproval: the rotation waits with both values live until
// Approve; Start refuses meanwhile.
func TestManualApproval(t *testing.T) {
	t.Parallel()
	for _, finish := range []string{"approve", "abort"} {
		t.Run(finish, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.setConfig(strings.Replace(fmt.Sprintf(configTemplate, f.srv.URL), "window: 150ms", "window: 50ms\n      approve: manual", 1))
			outcome, err := f.engine(nil, nil).Start(context.Background())
			if err != nil || outcome != rotate.OutcomeAwaitingApproval {
				t.Fatalf("Start = %s, %v", outcome, err)
			}
			newValue, _ := f.value(secretName)
			if prev, _ := f.value(prevName); prev != oldValue || newValue == oldValue {
				t.Fatalf("while waiting, %s is not the old value or %s not new", prevName, secretName)
			}
			if file := f.dotenvEntries(); file[secretName] != newValue || file[prevName] != oldValue {
				t.Errorf("app.env does not hold both values while waiting")
			}
			var ue *rotate.UnfinishedError
			if _, err := f.engine(nil, nil).Start(context.Background()); !errors.As(err, &ue) || ue.Rotation.State != rotate.StateAwaitingApproval {
				t.Errorf("Start while awaiting approval: %v", err)
			}
			// Resume does not approve.
			if o, err := f.engine(nil, nil).Resume(context.Background()); err != nil || o != rotate.OutcomeAwaitingApproval {
				t.Errorf("Resume while awaiting approval = %s, %v", o, err)
			}
			if finish == "abort" {
				outcome, err := f.engine(nil, nil).Abort(context.Background())
				if outcome != rotate.OutcomeRolledBack || !errors.Is(err, rotate.ErrRolledBack) {
					t.Fatalf("Abort = %s, %v", outcome, err)
				}
				f.checkRolledBack()
				return
			}
			outcome, err = f.engine(nil, nil).Approve(context.Background())
			if err != nil || outcome != rotate.OutcomeDone {
				t.Fatalf("Approve = %s, %v", outcome, err)
			}
			f.checkDone()
			if got, _ := f.value(secretName); got != newValue {
				t.Errorf("approval changed the new value")
			}
		})
	}
}

// fakeSource is a provider that makes its own values (no Generator) and
// keeps the set of valid credentials, so that a test can count them. Create
// adopts the credential it made for a rotation id before.
type fakeSource struct {
	mu       sync.Mutex
	live     map[string]bool
	byRot    map[string]string
	created  int
	onCreate func() // after a credential is made, before Create returns
	// revokeFails makes Revoke act at the source and then fail that many
	// times (a crash or a lost connection after the act).
	revokeFails int
}

func newFakeSource(f *fixture) *fakeSource {
	src := &fakeSource{live: map[string]bool{oldValue: true}, byRot: map[string]string{}}
	f.registry.Register("fake", func(provider.Settings) (provider.Provider, error) { return src, nil })
	f.setConfig("project: shop\nsecrets:\n  " + secretName + ":\n    provider: fake\n    targets:\n      - dotenv: ./app.env\n    verify: { window: 10ms }\n")
	return src
}

func (s *fakeSource) Kind() string { return "fake" }

func (s *fakeSource) Create(ctx context.Context, req provider.CreateRequest) (provider.Credential, error) {
	s.mu.Lock()
	v, ok := s.byRot[req.RotationID]
	if !ok {
		v = fmt.Sprintf("fake_%s_%d", req.RotationID, len(s.byRot))
		s.byRot[req.RotationID] = v
	}
	s.live[v] = true
	s.created++
	hook := s.onCreate
	s.mu.Unlock()
	if hook != nil {
		hook()
	}
	return provider.Credential{Value: secret.New(v)}, nil
}

func (s *fakeSource) Test(ctx context.Context, c provider.Credential) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.live[c.Value.Reveal()] {
		return errors.New("fake: credential rejected")
	}
	return nil
}

func (s *fakeSource) Revoke(ctx context.Context, c provider.Credential) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.live, c.Value.Reveal())
	if s.revokeFails > 0 {
		s.revokeFails--
		return errors.New("fake: connection lost after revoking")
	}
	return nil
}

// liveValues returns the valid credentials at the source.
func (s *fakeSource) liveValues() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for v := range s.live {
		out = append(out, v)
	}
	return out
}

// TestAbortAfterCreateAdoptsTheCredential: the provider made a credential
// and the process stopped before the journal recorded it; --abort asks the
// provider again for the rotation's credential (Create is idempotent per
// rotation id) and revokes it, so nothing is orphaned.
func TestAbortAfterCreateAdoptsTheCredential(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	src := newFakeSource(f)
	ctx, cancel := context.WithCancel(context.Background())
	src.onCreate = cancel // the journal write after Create fails
	if _, err := f.engine(nil, nil).Start(ctx); err == nil {
		t.Fatal("Start succeeded with a cancelled context")
	}
	if r := f.rotation(); r.State != rotate.StatePlanned || len(r.PendingCiphertext) != 0 {
		t.Fatalf("journal at %s (pending %d bytes), want planned and no pending value", r.State, len(r.PendingCiphertext))
	}
	if live := src.liveValues(); len(live) != 2 {
		t.Fatalf("live credentials %v, want the old one and the unrecorded new one", live)
	}
	src.onCreate = nil
	outcome, err := f.engine(nil, nil).Abort(context.Background())
	if outcome != rotate.OutcomeRolledBack || !errors.Is(err, rotate.ErrRolledBack) {
		t.Fatalf("Abort = %s, %v", outcome, err)
	}
	if live := src.liveValues(); len(live) != 1 || live[0] != oldValue {
		t.Errorf("live credentials after abort: %v, want only the old one", live)
	}
	if got, _ := f.value(secretName); got != oldValue {
		t.Errorf("%s is not the old value", secretName)
	}
	f.checkChain()
}

// TestAbortAfterRevokeBeganFinishes: once the old credential may be revoked
// at its source, --abort must not restore it (consumers would be left with
// no valid credential): it finishes the rotation.
func TestAbortAfterRevokeBeganFinishes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	src := newFakeSource(f)
	src.revokeFails = 1
	if _, err := f.engine(nil, nil).Start(context.Background()); err == nil || errors.Is(err, rotate.ErrRolledBack) {
		t.Fatalf("Start = %v, want a revoke error without rollback", err)
	}
	if r := f.rotation(); r.State != rotate.StateVerified {
		t.Fatalf("journal at %s, want verified", r.State)
	}
	newValue, _ := f.value(secretName)
	outcome, err := f.engine(nil, nil).Abort(context.Background())
	if err != nil || outcome != rotate.OutcomeDone {
		t.Fatalf("Abort = %s, %v; want the rotation finished", outcome, err)
	}
	if live := src.liveValues(); len(live) != 1 || live[0] != newValue {
		t.Errorf("live credentials %v, want only the new one", live)
	}
	if got := f.dotenvEntries()[secretName]; got != newValue {
		t.Errorf("app.env does not hold the new value")
	}
	f.checkChain()
}
