package environment

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/slickenv/slickenv/internal/crypto"
	"github.com/slickenv/slickenv/internal/secret"
	"github.com/slickenv/slickenv/internal/store"
	"github.com/slickenv/slickenv/internal/store/sqlstore"
)

type fixture struct {
	st  *sqlstore.Store
	id  *crypto.Identity
	env *Env
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "shop.db"), sqlstore.SQLiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &fixture{st: st, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	st.SetClock(func() time.Time { return f.now })
	if f.id, err = crypto.GenerateIdentity(); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(ctx, st, "shop", "production", "tester", []string{f.id.Recipient()}); err != nil {
		t.Fatal(err)
	}
	if f.env, err = Open(ctx, st, "shop", "production", "tester"); err != nil {
		t.Fatal(err)
	}
	if err := f.env.Unlock(ctx, f.id); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) set(t *testing.T, kv ...string) Result {
	t.Helper()
	var c Change
	c.Kind = store.KindSet
	for i := 0; i < len(kv); i += 2 {
		c.Set = append(c.Set, Pair{Name: kv[i], Value: secret.New(kv[i+1])})
	}
	r, err := f.env.Apply(context.Background(), c)
	if err != nil {
		t.Fatalf("Apply(%v): %v", kv, err)
	}
	return r
}

func (f *fixture) since(t *testing.T, name string) time.Time {
	t.Helper()
	vars, _, err := f.env.Variables(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range vars {
		if v.Name == name {
			return v.Since
		}
	}
	t.Fatalf("%s not set", name)
	return time.Time{}
}

func TestApplySkipsUnchangedAndReportsNoChange(t *testing.T) {
	f := newFixture(t)
	r := f.set(t, "A", "1", "B", "2")
	if r.Version.Version != 1 || len(r.Added) != 2 {
		t.Fatalf("first set = %+v", r)
	}
	r = f.set(t, "A", "1", "B", "3")
	if r.Version.Version != 2 || len(r.Changed) != 1 || len(r.Unchanged) != 1 {
		t.Fatalf("second set = %+v", r)
	}
	_, err := f.env.Apply(context.Background(), Change{Kind: store.KindSet, Set: []Pair{{Name: "A", Value: secret.New("1")}}})
	if !errors.Is(err, ErrNoChange) {
		t.Fatalf("no-op set = %v, want ErrNoChange", err)
	}
	head, _ := f.env.Head(context.Background())
	if head.Version != 2 {
		t.Fatalf("no-op wrote a version: head %d", head.Version)
	}
}

func TestAgeFollowsValues(t *testing.T) {
	f := newFixture(t)
	t0 := f.now
	f.set(t, "K", "old")
	f.now = t0.Add(24 * time.Hour)
	f.set(t, "K", "new")
	if got := f.since(t, "K"); !got.Equal(f.now) {
		t.Fatalf("new value since %v, want %v", got, f.now)
	}
	// Setting a value the variable held before keeps its original age.
	f.now = t0.Add(48 * time.Hour)
	f.set(t, "K", "old")
	if got := f.since(t, "K"); !got.Equal(t0) {
		t.Fatalf("reused value since %v, want %v", got, t0)
	}
	// Rollback restores the value's original age.
	f.now = t0.Add(72 * time.Hour)
	if _, err := f.env.Rollback(context.Background(), 2, nil, ""); err != nil {
		t.Fatal(err)
	}
	if got := f.since(t, "K"); !got.Equal(t0.Add(24 * time.Hour)) {
		t.Fatalf("rolled-back value since %v, want %v", got, t0.Add(24*time.Hour))
	}
}

func TestRollbackScopesAndDeletes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.set(t, "A", "a1", "B", "b1")                      // v1
	f.set(t, "A", "a2", "C", "c1")                      // v2
	r, err := f.env.Rollback(ctx, 1, []string{"A"}, "") // v3: only A
	if err != nil || r.Version.Version != 3 || len(r.Changed) != 1 {
		t.Fatalf("rollback A = %+v, %v", r, err)
	}
	val, _, err := f.env.Get(ctx, "A", 0)
	if err != nil || val.Reveal() != "a1" {
		t.Fatalf("A after rollback = %q, %v", val.Reveal(), err)
	}
	if _, _, err := f.env.Get(ctx, "C", 0); err != nil {
		t.Fatalf("C should be untouched by a scoped rollback: %v", err)
	}
	r, err = f.env.Rollback(ctx, 1, nil, "") // v4: whole env, C removed
	if err != nil || len(r.Removed) != 1 || r.Removed[0] != "C" {
		t.Fatalf("full rollback = %+v, %v", r, err)
	}
	if _, err := f.env.Rollback(ctx, 1, nil, ""); !errors.Is(err, ErrNoChange) {
		t.Fatalf("rollback to identical = %v, want ErrNoChange", err)
	}
	if _, err := f.env.Rollback(ctx, 99, nil, ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("rollback to v99 = %v, want ErrNotFound", err)
	}
	if _, err := f.env.Rollback(ctx, 1, []string{"NOPE"}, ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("rollback of unknown name = %v, want ErrNotFound", err)
	}
	// v0 is the empty environment.
	r, err = f.env.Rollback(ctx, 0, nil, "")
	if err != nil || len(r.Removed) != 2 {
		t.Fatalf("rollback to v0 = %+v, %v", r, err)
	}
}

func TestUnsetAndPrune(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.set(t, "A", "1", "B", "2", "C", "3")
	if _, err := f.env.Apply(ctx, Change{Kind: store.KindUnset, Unset: []string{"A", "NOPE"}}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unset unknown = %v, want ErrNotFound", err)
	}
	if head, _ := f.env.Head(ctx); head.Version != 1 {
		t.Fatal("failed unset wrote a version")
	}
	r, err := f.env.Apply(ctx, Change{Kind: store.KindImport, Prune: true, Set: []Pair{{Name: "A", Value: secret.New("1")}}})
	if err != nil || len(r.Removed) != 2 || len(r.Unchanged) != 1 {
		t.Fatalf("prune import = %+v, %v", r, err)
	}
}

func TestDiff(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.set(t, "A", "1", "B", "2")
	f.set(t, "A", "9", "C", "3")
	if _, err := f.env.Apply(ctx, Change{Kind: store.KindUnset, Unset: []string{"B"}}); err != nil {
		t.Fatal(err)
	}
	d, _, _, err := f.env.Diff(ctx, 1, 3, true)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name     string
		kind     DiffKind
		old, new string
	}{{"A", Changed, "1", "9"}, {"B", Removed, "2", ""}, {"C", Added, "", "3"}}
	if len(d) != len(want) {
		t.Fatalf("diff = %+v", d)
	}
	for i, w := range want {
		if d[i].Name != w.name || d[i].Kind != w.kind || d[i].Old.Reveal() != w.old || d[i].New.Reveal() != w.new {
			t.Errorf("diff[%d] = %s %s %q→%q, want %+v", i, d[i].Name, d[i].Kind, d[i].Old.Reveal(), d[i].New.Reveal(), w)
		}
	}
	d, _, _, err = f.env.Diff(ctx, 0, 1, false)
	if err != nil || len(d) != 2 || d[0].Kind != Added {
		t.Fatalf("diff from empty = %+v, %v", d, err)
	}
}

func TestWrongIdentityAndLocked(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.set(t, "A", "1")
	other, _ := crypto.GenerateIdentity()
	env, err := Open(ctx, f.st, "shop", "production", "x")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := env.Get(ctx, "A", 0); !errors.Is(err, ErrLocked) {
		t.Fatalf("Get before Unlock = %v, want ErrLocked", err)
	}
	err = env.Unlock(ctx, other)
	var ae *AccessError
	if !errors.As(err, &ae) || !errors.Is(err, crypto.ErrNoAccess) || ae.Recipient != other.Recipient() {
		t.Fatalf("Unlock(other) = %v", err)
	}
	if _, err := Open(ctx, f.st, "shop", "nope", "x"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Open(nope) = %v", err)
	}
}

func TestTamperedCiphertextFailsToOpen(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.set(t, "A", "1", "B", "2")
	// Move B's ciphertext into A's slot: the associated data must reject it.
	rows, err := f.st.Snapshot(ctx, 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	var b store.ValueRow
	for _, r := range rows {
		if r.Name == "B" {
			b = r
		}
	}
	if _, err := f.st.Commit(ctx, store.Commit{EnvID: 1, Base: 1, Kind: store.KindSet, Actor: "mallory",
		Changes: []store.Change{{Name: "A", Ciphertext: b.Ciphertext, Fingerprint: []byte("x")}}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.env.Get(ctx, "A", 0); !errors.Is(err, crypto.ErrTampered) {
		t.Fatalf("Get of moved ciphertext = %v, want ErrTampered", err)
	}
	if _, _, err := f.env.Values(ctx, 0, "export"); !errors.Is(err, crypto.ErrTampered) {
		t.Fatalf("Values with moved ciphertext = %v, want ErrTampered", err)
	}
}
