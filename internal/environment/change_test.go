package environment

import (
	"context"
	"testing"

	"github.com/slickenv/slickenv/internal/store"
)

// TestNamesGivenTwice: a name repeated in an unset or a scoped rollback is
// acted on once (it used to produce two rows for one slot and fail with a
// constraint error).
func TestNamesGivenTwice(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	f.set(t, "A", "a1", "B", "b1") // v1
	f.set(t, "A", "a2")            // v2
	r, err := f.env.Rollback(ctx, 1, []string{"A", "A"}, "")
	if err != nil || r.Version.Version != 3 || len(r.Changed) != 1 {
		t.Fatalf("rollback A A = %+v, %v", r, err)
	}
	r, err = f.env.Apply(ctx, Change{Kind: store.KindUnset, Unset: []string{"B", "A", "B"}})
	if err != nil || r.Version.Version != 4 || len(r.Removed) != 2 {
		t.Fatalf("unset B A B = %+v, %v", r, err)
	}
	vars, _, err := f.env.Variables(ctx, 0)
	if err != nil || len(vars) != 0 {
		t.Fatalf("after unset: %v, %v", vars, err)
	}
}
