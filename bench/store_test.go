package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/slickenv/slickenv/bench/fixture"
	"github.com/slickenv/slickenv/internal/audit"
	"github.com/slickenv/slickenv/internal/crypto"
	"github.com/slickenv/slickenv/internal/environment"
	"github.com/slickenv/slickenv/internal/store"
	"github.com/slickenv/slickenv/internal/store/sqlstore"
)

// The large environment of the performance target: 1,000 variables, 10,000
// versions, 3 variables changed per version. SLICKENV_BENCH_VERSIONS
// overrides the number of versions (building 10,000 takes ~15 s).
const (
	largeVars    = 1000
	largeChanges = 3
	runVars      = 200
)

type storeFixture struct {
	dir   string
	path  string
	env   store.Env
	id    *crypto.Identity
	spec  fixture.Spec
	size  fixture.Size
	build error
}

var (
	large, small         storeFixture
	largeOnce, smallOnce sync.Once
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, f := range []storeFixture{large, small} {
		if f.dir != "" {
			os.RemoveAll(f.dir)
		}
	}
	os.Exit(code)
}

func largeVersions() int {
	if n, err := strconv.Atoi(os.Getenv("SLICKENV_BENCH_VERSIONS")); err == nil && n > 0 {
		return n
	}
	return 10000
}

// buildFixture creates a store with one environment filled per spec, in a
// temporary directory that TestMain removes. It measures the store's size
// after version 1 and at the end, with the store closed (log checkpointed).
func buildFixture(spec fixture.Spec) (f storeFixture) {
	ctx := context.Background()
	f.spec = spec
	f.dir, f.build = os.MkdirTemp("", "slickenv-bench-")
	if f.build != nil {
		return f
	}
	f.path = filepath.Join(f.dir, spec.Project+".db")
	if f.id, f.build = crypto.GenerateIdentity(); f.build != nil {
		return f
	}
	st, err := sqlstore.OpenSQLite(ctx, f.path, sqlstore.SQLiteOptions{})
	if err != nil {
		f.build = err
		return f
	}
	if _, err := environment.Create(ctx, st, spec.Project, spec.Env, "bench", []string{f.id.Recipient()}); err != nil {
		st.Close()
		f.build = err
		return f
	}
	st.Close()
	f.size = fixture.Size{Versions: spec.Versions, Changes: spec.Changes}
	for _, upTo := range []int{1, spec.Versions} {
		pass := spec
		pass.Versions = upTo
		st, err := sqlstore.OpenSQLite(ctx, f.path, sqlstore.SQLiteOptions{})
		if err != nil {
			f.build = err
			return f
		}
		if f.env, err = st.Env(ctx, spec.Project, spec.Env); err == nil {
			err = fixture.Fill(ctx, st, f.env, f.id, pass, nil)
		}
		if cerr := st.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			f.build = err
			return f
		}
		n, err := fixture.DiskBytes(f.path)
		if err != nil {
			f.build = err
			return f
		}
		f.size.First, f.size.Total = f.size.Total, n
	}
	return f
}

func largeFixture(b *testing.B) storeFixture {
	largeOnce.Do(func() {
		large = buildFixture(fixture.Spec{Project: "bench", Env: "production", Vars: largeVars, Versions: largeVersions(), Changes: largeChanges, ValueSize: 32, Seed: 1})
	})
	if large.build != nil {
		b.Fatalf("build the large fixture: %v", large.build)
	}
	return large
}

func smallFixture(b *testing.B) storeFixture {
	smallOnce.Do(func() {
		small = buildFixture(fixture.Spec{Project: "bench", Env: "production", Vars: runVars, Versions: 1, Changes: 1, ValueSize: 40, Seed: 2})
	})
	if small.build != nil {
		b.Fatalf("build the small fixture: %v", small.build)
	}
	return small
}

func open(b *testing.B, f storeFixture) *sqlstore.Store {
	b.Helper()
	st, err := sqlstore.OpenSQLite(context.Background(), f.path, sqlstore.SQLiteOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

func reportSize(b *testing.B, f storeFixture) {
	b.ReportMetric(f.size.PerVersion(), "B/version")
	b.ReportMetric(f.size.PerChange(), "B/change")
}

// BenchmarkLargeSnapshot reads the whole environment at its head: what
// `export` and `run` read.
func BenchmarkLargeSnapshot(b *testing.B) {
	f := largeFixture(b)
	st := open(b, f)
	ctx := context.Background()
	head := int64(f.spec.Versions)
	for b.Loop() {
		rows, err := st.Snapshot(ctx, f.env.ID, head)
		if err != nil || len(rows) != largeVars {
			b.Fatalf("Snapshot: %d rows, %v", len(rows), err)
		}
	}
	reportSize(b, f)
}

// BenchmarkSmallSnapshot reads an environment of 200 variables with one
// version: what `run` reads in the side-by-side comparison.
func BenchmarkSmallSnapshot(b *testing.B) {
	f := smallFixture(b)
	st := open(b, f)
	ctx := context.Background()
	for b.Loop() {
		rows, err := st.Snapshot(ctx, f.env.ID, 1)
		if err != nil || len(rows) != runVars {
			b.Fatalf("Snapshot: %d rows, %v", len(rows), err)
		}
	}
}

// BenchmarkLargeSnapshotOld reads the environment as of its first version,
// with every later version to skip.
func BenchmarkLargeSnapshotOld(b *testing.B) {
	f := largeFixture(b)
	st := open(b, f)
	ctx := context.Background()
	for b.Loop() {
		rows, err := st.Snapshot(ctx, f.env.ID, 1)
		if err != nil || len(rows) != largeVars {
			b.Fatalf("Snapshot: %d rows, %v", len(rows), err)
		}
	}
}

// BenchmarkLargeValue reads one variable at the head: what `get` reads.
func BenchmarkLargeValue(b *testing.B) {
	f := largeFixture(b)
	st := open(b, f)
	ctx := context.Background()
	head := int64(f.spec.Versions)
	i := 0
	for b.Loop() {
		if _, err := st.Value(ctx, f.env.ID, fixture.Name(i%largeVars), head); err != nil {
			b.Fatal(err)
		}
		i += 7
	}
}

// BenchmarkLargeVersions lists the newest 50 versions with the names each
// changed: what `history --limit 50` reads.
func BenchmarkLargeVersions(b *testing.B) {
	f := largeFixture(b)
	st := open(b, f)
	ctx := context.Background()
	for b.Loop() {
		vs, err := st.Versions(ctx, f.env.ID, store.VersionQuery{Limit: 50})
		if err != nil || len(vs) != 50 || len(vs[0].Names) != largeChanges {
			b.Fatalf("Versions: %d versions, %v", len(vs), err)
		}
	}
}

// BenchmarkLargeVersionsOfName lists the newest 50 versions that changed one
// variable: what `history KEY --limit 50` reads.
func BenchmarkLargeVersionsOfName(b *testing.B) {
	f := largeFixture(b)
	st := open(b, f)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		if _, err := st.Versions(ctx, f.env.ID, store.VersionQuery{Name: fixture.Name(i % largeVars), Limit: 50}); err != nil {
			b.Fatal(err)
		}
		i += 7
	}
}

// BenchmarkLargeFirstSeen looks up when a value first entered a variable:
// what every changed value of `set` and `import` costs.
func BenchmarkLargeFirstSeen(b *testing.B) {
	f := largeFixture(b)
	st := open(b, f)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		if _, _, err := st.FirstSeen(ctx, f.env.ID, fixture.Name(i%largeVars), []byte("not a fingerprint")); err != nil {
			b.Fatal(err)
		}
		i += 7
	}
}

// BenchmarkLargeCommit writes versions on top of the large environment, each
// changing 3 variables with its audit entry, durably (one fsync each).
func BenchmarkLargeCommit(b *testing.B) {
	f := largeFixture(b)
	st := open(b, f)
	ctx := context.Background()
	head, err := st.Head(ctx, f.env.ID)
	if err != nil {
		b.Fatal(err)
	}
	ct := make([]byte, 73)
	for b.Loop() {
		changes := make([]store.Change, largeChanges)
		for j := range changes {
			changes[j] = store.Change{Name: fixture.Name(int(head.Version*7+int64(j)) % largeVars), Ciphertext: ct, Fingerprint: ct[:32]}
		}
		v, err := st.Commit(ctx, store.Commit{EnvID: f.env.ID, Base: head.Version, Kind: store.KindSet, Actor: "bench", Changes: changes, Audit: audit.Record{Action: "set"}})
		if err != nil {
			b.Fatal(err)
		}
		head = v
	}
}

// BenchmarkAppendAudit appends the entry that every read of values (get,
// export, run) writes before revealing anything.
func BenchmarkAppendAudit(b *testing.B) {
	f := smallFixture(b)
	st := open(b, f)
	ctx := context.Background()
	for b.Loop() {
		if _, err := st.AppendAudit(ctx, f.spec.Project, audit.Record{Actor: "bench", Action: "run", Env: f.spec.Env, Version: 1}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRunCycle is what `slickenv run` does with the store in one
// process, minus process start: open the store, find the environment, read
// its keys and head, read the snapshot of 200 variables, append the audit
// entry, decrypt, close. Each iteration opens the file afresh, so the
// figure includes SQLite's per-connection setup (schema parse, WAL and
// shared-memory files) and the checkpoint on close.
func BenchmarkRunCycle(b *testing.B) {
	f := smallFixture(b)
	ctx := context.Background()
	for b.Loop() {
		if err := runCycle(ctx, f); err != nil {
			b.Fatal(err)
		}
	}
}

func runCycle(ctx context.Context, f storeFixture) error {
	st, err := sqlstore.OpenSQLite(ctx, f.path, sqlstore.SQLiteOptions{})
	if err != nil {
		return err
	}
	defer st.Close()
	env, err := environment.Open(ctx, st, f.spec.Project, f.spec.Env, "bench")
	if err != nil {
		return err
	}
	if err := env.Unlock(ctx, f.id); err != nil {
		return err
	}
	pairs, _, err := env.Values(ctx, 0, "run")
	if err != nil {
		return err
	}
	if len(pairs) != runVars {
		return fmt.Errorf("%d values, want %d", len(pairs), runVars)
	}
	return st.Close()
}
