package sqlstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/slickenv/slickenv/internal/audit"
	"github.com/slickenv/slickenv/internal/store"
)

// TestSnapshotPaths checks the three plans Snapshot chooses between (one
// pass over the rows, GROUP BY on the primary key, per-name index seeks; see
// snapshotScanRows) against a model, at versions spread over a random
// history with deletions, re-additions and names added late. It also checks
// Value and Versions by name against the same model.
func TestSnapshotPaths(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) { testSnapshotPaths(t, openTemp(t)) })
	t.Run("postgres", func(t *testing.T) { testSnapshotPaths(t, freshPostgres(t)) })
}

func testSnapshotPaths(t *testing.T, s *Store) {
	ctx := context.Background()
	env, err := s.CreateEnv(ctx, "shop", "production", nil, audit.Record{Action: "env.create"})
	if err != nil {
		t.Fatal(err)
	}
	// Another environment with the same names must never leak in.
	other, err := s.CreateEnv(ctx, "shop", "staging", nil, audit.Record{Action: "env.create"})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	const versions, names = 80, 25
	type cell struct {
		ct      string
		version int64
	}
	models := make([]map[string]cell, versions+1) // models[v]: the environment at v
	models[0] = map[string]cell{}
	changed := map[string][]int64{} // name → versions that changed it, oldest first
	for v := int64(1); v <= versions; v++ {
		cur := map[string]cell{}
		for k, c := range models[v-1] {
			cur[k] = c
		}
		var changes []store.Change
		picked := map[string]bool{}
		for range 1 + rng.IntN(4) {
			// Names beyond the first ten appear only after version 30.
			n := rng.IntN(names)
			if v < 30 {
				n = rng.IntN(10)
			}
			name := fmt.Sprintf("K%02d", n)
			if picked[name] {
				continue
			}
			picked[name] = true
			if _, set := cur[name]; set && rng.IntN(4) == 0 {
				changes = append(changes, store.Change{Name: name, Deleted: true})
				delete(cur, name)
			} else {
				ct := fmt.Sprintf("%s@%d", name, v)
				changes = append(changes, store.Change{Name: name, Ciphertext: []byte(ct), Fingerprint: []byte("fp" + ct)})
				cur[name] = cell{ct, v}
			}
			changed[name] = append(changed[name], v)
		}
		if _, err := s.Commit(ctx, store.Commit{EnvID: env.ID, Base: v - 1, Kind: store.KindSet, Actor: "t", Changes: changes, Audit: audit.Record{Action: "set"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Commit(ctx, store.Commit{EnvID: other.ID, Base: v - 1, Kind: store.KindSet, Actor: "t", Changes: []store.Change{{Name: "K00", Ciphertext: []byte("other"), Fingerprint: []byte("other")}, {Name: "ZZ", Ciphertext: []byte("other"), Fingerprint: []byte("other")}}, Audit: audit.Record{Action: "set"}}); err != nil {
			t.Fatal(err)
		}
		models[v] = cur
	}
	// Every version would be thorough but slow under the race detector
	// (modernc's SQLite is heavily instrumented): check a spread of them.
	for v := int64(0); v <= versions; v++ {
		if v > 2 && v < versions-2 && v%7 != 0 {
			continue
		}
		want := make([]string, 0, len(models[v]))
		for name, c := range models[v] {
			want = append(want, fmt.Sprintf("%s=%s(v%d)", name, c.ct, c.version))
		}
		slices.Sort(want)
		for _, path := range []struct {
			name string
			read func(context.Context, int64, int64) ([]store.ValueRow, error)
		}{{"Snapshot", s.Snapshot}, {"scan", s.snapshotScan}, {"group", s.snapshotGroup}, {"seek", s.snapshotSeek}} {
			rows, err := path.read(ctx, env.ID, v)
			if err != nil {
				t.Fatalf("%s(v%d): %v", path.name, v, err)
			}
			got := make([]string, len(rows))
			for i, r := range rows {
				got[i] = fmt.Sprintf("%s=%s(v%d)", r.Name, r.Ciphertext, r.EnvVersion)
				if r.Deleted {
					t.Errorf("%s(v%d) returned deleted %s", path.name, v, r.Name)
				}
				if r.CreatedAt.IsZero() {
					t.Errorf("%s(v%d): %s has no CreatedAt", path.name, v, r.Name)
				}
			}
			if !slices.Equal(got, want) {
				t.Fatalf("%s(v%d):\n got %v\nwant %v", path.name, v, got, want)
			}
		}
		for n := range names {
			name := fmt.Sprintf("K%02d", n)
			r, err := s.Value(ctx, env.ID, name, v)
			c, set := models[v][name]
			switch {
			case !set && err == nil:
				t.Fatalf("Value(%s, v%d) = %s, want not found", name, v, r.Ciphertext)
			case set && (err != nil || string(r.Ciphertext) != c.ct):
				t.Fatalf("Value(%s, v%d) = %q, %v; want %q", name, v, r.Ciphertext, err, c.ct)
			}
		}
	}
	for name, vs := range changed {
		got, err := s.Versions(ctx, env.ID, store.VersionQuery{Name: name, Limit: 5, Before: vs[len(vs)-1]})
		if err != nil {
			t.Fatal(err)
		}
		var want []int64
		for i := len(vs) - 2; i >= 0 && len(want) < 5; i-- {
			want = append(want, vs[i])
		}
		var gotVs []int64
		for _, v := range got {
			gotVs = append(gotVs, v.Version)
			if !slices.Contains(v.Names, name) {
				t.Errorf("Versions(%s): v%d names %v lack it", name, v.Version, v.Names)
			}
		}
		if !slices.Equal(gotVs, want) {
			t.Errorf("Versions(%s, before v%d) = %v, want %v", name, vs[len(vs)-1], gotVs, want)
		}
	}
}
