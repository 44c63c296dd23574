// Package storetest is the shared test suite every store.Store
// implementation must pass.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/slickenv/slickenv/internal/audit"
	"github.com/slickenv/slickenv/internal/store"
)

// Run runs the suite. open returns a fresh, empty store for each subtest.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"CreateEnv", testCreateEnv},
		{"CommitAndSnapshot", testCommitAndSnapshot},
		{"Conflict", testConflict},
		{"ConcurrentCommits", testConcurrentCommits},
		{"Versions", testVersions},
		{"FirstSeen", testFirstSeen},
		{"AuditChain", testAuditChain},
		{"Journal", testJournal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open(t)) })
	}
}

func mkEnv(t *testing.T, s store.Store, name string) store.Env {
	t.Helper()
	e, err := s.CreateEnv(context.Background(), "shop", name, []store.EnvKey{{Recipient: "age1test", WrappedDEK: []byte("wrapped")}}, audit.Record{Actor: "tester", Action: "env.create"})
	if err != nil {
		t.Fatalf("CreateEnv: %v", err)
	}
	return e
}

func set(name, ct string) store.Change {
	return store.Change{Name: name, Ciphertext: []byte(ct), Fingerprint: []byte("fp-" + ct)}
}

func commit(t *testing.T, s store.Store, env store.Env, base int64, changes ...store.Change) store.EnvVersion {
	t.Helper()
	v, err := s.Commit(context.Background(), store.Commit{EnvID: env.ID, Base: base, Kind: store.KindSet, Actor: "tester", Changes: changes, Audit: audit.Record{Action: "set"}})
	if err != nil {
		t.Fatalf("Commit(base %d): %v", base, err)
	}
	return v
}

func testCreateEnv(t *testing.T, s store.Store) {
	ctx := context.Background()
	e := mkEnv(t, s, "production")
	if _, err := s.CreateEnv(ctx, "shop", "production", nil, audit.Record{Action: "env.create"}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("second CreateEnv = %v, want ErrExists", err)
	}
	got, err := s.Env(ctx, "shop", "production")
	if err != nil || got.ID != e.ID {
		t.Fatalf("Env = %+v, %v", got, err)
	}
	if _, err := s.Env(ctx, "shop", "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Env(nope) = %v, want ErrNotFound", err)
	}
	if _, err := s.Env(ctx, "other", "production"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("Env(other project) = %v, want ErrNotFound", err)
	}
	keys, err := s.EnvKeys(ctx, e.ID)
	if err != nil || len(keys) != 1 || keys[0].Recipient != "age1test" || string(keys[0].WrappedDEK) != "wrapped" {
		t.Fatalf("EnvKeys = %+v, %v", keys, err)
	}
	mkEnv(t, s, "development")
	envs, err := s.Envs(ctx, "shop")
	if err != nil || len(envs) != 2 || envs[0].Name != "development" {
		t.Fatalf("Envs = %+v, %v", envs, err)
	}
	h, err := s.Head(ctx, e.ID)
	if err != nil || h.Version != 0 {
		t.Fatalf("Head of new env = %+v, %v", h, err)
	}
}

func testCommitAndSnapshot(t *testing.T, s store.Store) {
	ctx := context.Background()
	e := mkEnv(t, s, "production")
	commit(t, s, e, 0, set("A", "a1"), set("B", "b1"))
	commit(t, s, e, 1, set("A", "a2"))
	commit(t, s, e, 2, store.Change{Name: "B", Deleted: true})
	commit(t, s, e, 3, set("C", "c1"))

	snap := func(v int64) string {
		rows, err := s.Snapshot(ctx, e.ID, v)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		for _, r := range rows {
			fmt.Fprintf(&b, "%s=%s@%d ", r.Name, r.Ciphertext, r.EnvVersion)
		}
		return b.String()
	}
	for v, want := range map[int64]string{
		0: "", 1: "A=a1@1 B=b1@1 ", 2: "A=a2@2 B=b1@1 ", 3: "A=a2@2 ", 4: "A=a2@2 C=c1@4 ",
	} {
		if got := snap(v); got != want {
			t.Errorf("snapshot v%d = %q, want %q", v, got, want)
		}
	}
	if r, err := s.Value(ctx, e.ID, "A", 1); err != nil || string(r.Ciphertext) != "a1" {
		t.Errorf("Value(A, 1) = %+v, %v", r, err)
	}
	if _, err := s.Value(ctx, e.ID, "B", 3); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Value(B, 3) after delete = %v, want ErrNotFound", err)
	}
	if _, err := s.Value(ctx, e.ID, "C", 3); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Value(C, 3) before set = %v, want ErrNotFound", err)
	}
	hist, err := s.ValueHistory(ctx, e.ID, "B", 0)
	if err != nil || len(hist) != 2 || !hist[0].Deleted || hist[1].EnvVersion != 1 {
		t.Errorf("ValueHistory(B) = %+v, %v", hist, err)
	}
	if _, err := s.Version(ctx, e.ID, 9); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Version(9) = %v, want ErrNotFound", err)
	}
	if _, err := s.Commit(ctx, store.Commit{EnvID: e.ID, Base: 4, Kind: store.KindSet}); err == nil {
		t.Error("empty commit succeeded")
	}
}

func testConflict(t *testing.T, s store.Store) {
	ctx := context.Background()
	e := mkEnv(t, s, "production")
	commit(t, s, e, 0, set("A", "a1"))
	_, err := s.Commit(ctx, store.Commit{EnvID: e.ID, Base: 0, Kind: store.KindSet, Actor: "x", Changes: []store.Change{set("A", "lost")}, Audit: audit.Record{Action: "set"}})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale commit = %v, want ErrConflict", err)
	}
	h, _ := s.Head(ctx, e.ID)
	if h.Version != 1 {
		t.Fatalf("head after conflict = %d, want 1", h.Version)
	}
	entries, _ := s.Audit(ctx, "shop", store.AuditQuery{})
	if len(entries) != 2 { // env.create + one set
		t.Fatalf("conflicting commit left an audit entry: %d entries", len(entries))
	}
}

func testConcurrentCommits(t *testing.T, s store.Store) {
	ctx := context.Background()
	e := mkEnv(t, s, "production")
	const workers = 16
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins, conflicts := 0, 0
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := s.Commit(ctx, store.Commit{EnvID: e.ID, Base: 0, Kind: store.KindSet, Actor: "w", Changes: []store.Change{set("A", fmt.Sprint(i))}, Audit: audit.Record{Action: "set"}})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, store.ErrConflict):
				conflicts++
			default:
				t.Errorf("worker %d: %v", i, err)
			}
		}(i)
	}
	wg.Wait()
	if wins != 1 || conflicts != workers-1 {
		t.Fatalf("wins=%d conflicts=%d, want 1 and %d", wins, conflicts, workers-1)
	}
	head, _ := s.AuditHead(ctx, "shop")
	entries, _ := s.Audit(ctx, "shop", store.AuditQuery{})
	if err := audit.Verify(entries, head); err != nil {
		t.Fatalf("audit after concurrent commits: %v", err)
	}
}

func testVersions(t *testing.T, s store.Store) {
	ctx := context.Background()
	e := mkEnv(t, s, "production")
	for i := int64(0); i < 10; i++ {
		name := "A"
		if i%2 == 1 {
			name = "B"
		}
		commit(t, s, e, i, set(name, fmt.Sprint(i)))
	}
	vs, err := s.Versions(ctx, e.ID, store.VersionQuery{Limit: 3})
	if err != nil || len(vs) != 3 || vs[0].Version != 10 || vs[2].Version != 8 || len(vs[0].Names) != 1 || vs[0].Names[0] != "B" {
		t.Fatalf("Versions(limit 3) = %+v, %v", vs, err)
	}
	vs, err = s.Versions(ctx, e.ID, store.VersionQuery{Name: "A"})
	if err != nil || len(vs) != 5 || vs[0].Version != 9 {
		t.Fatalf("Versions(A) = %+v, %v", vs, err)
	}
	vs, err = s.Versions(ctx, e.ID, store.VersionQuery{Before: 3})
	if err != nil || len(vs) != 2 || vs[0].Version != 2 {
		t.Fatalf("Versions(before 3) = %+v, %v", vs, err)
	}
}

func testFirstSeen(t *testing.T, s store.Store) {
	ctx := context.Background()
	e := mkEnv(t, s, "production")
	v1 := commit(t, s, e, 0, set("A", "x"))
	if _, ok, err := s.FirstSeen(ctx, e.ID, "A", []byte("fp-y")); ok || err != nil {
		t.Fatalf("FirstSeen(unknown) = %v, %v", ok, err)
	}
	got, ok, err := s.FirstSeen(ctx, e.ID, "A", []byte("fp-x"))
	if !ok || err != nil || !got.Equal(v1.CreatedAt) {
		t.Fatalf("FirstSeen = %v %v %v, want %v", got, ok, err, v1.CreatedAt)
	}
}

func testAuditChain(t *testing.T, s store.Store) {
	ctx := context.Background()
	e := mkEnv(t, s, "production")
	commit(t, s, e, 0, set("A", "x"))
	if _, err := s.AppendAudit(ctx, "shop", audit.Record{Actor: "reader", Action: "get", Env: "production", Name: "A", Version: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendAudit(ctx, "other", audit.Record{Actor: "reader", Action: "get"}); err != nil {
		t.Fatal(err)
	}
	entries, err := s.Audit(ctx, "shop", store.AuditQuery{})
	if err != nil || len(entries) != 3 {
		t.Fatalf("Audit = %d entries, %v", len(entries), err)
	}
	if entries[1].Action != "set" || entries[1].Version != 1 || entries[1].Env != "production" {
		t.Fatalf("commit entry = %+v", entries[1])
	}
	head, err := s.AuditHead(ctx, "shop")
	if err != nil || head.Seq != 3 {
		t.Fatalf("AuditHead = %+v, %v", head, err)
	}
	if err := audit.Verify(entries, head); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	last, err := s.Audit(ctx, "shop", store.AuditQuery{Limit: 2})
	if err != nil || len(last) != 2 || last[0].Seq != 2 {
		t.Fatalf("Audit(limit 2) = %+v, %v", last, err)
	}
}
