package scan

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/slickenv/slickenv/internal/crypto"
	"github.com/slickenv/slickenv/internal/environment"
	"github.com/slickenv/slickenv/internal/secret"
	"github.com/slickenv/slickenv/internal/store"
	"github.com/slickenv/slickenv/internal/store/sqlstore"
)

type knownFixture struct {
	st  *sqlstore.Store
	id  *crypto.Identity
	now time.Time
}

func newKnownFixture(t *testing.T) *knownFixture {
	t.Helper()
	ctx := context.Background()
	st, err := sqlstore.OpenSQLite(ctx, filepath.Join(t.TempDir(), "shop.db"), sqlstore.SQLiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	f := &knownFixture{st: st, now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	st.SetClock(func() time.Time { return f.now })
	if f.id, err = crypto.GenerateIdentity(); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *knownFixture) env(t *testing.T, name string, recipients ...string) *environment.Env {
	t.Helper()
	ctx := context.Background()
	if len(recipients) == 0 {
		recipients = []string{f.id.Recipient()}
	}
	e, err := environment.Create(ctx, f.st, "shop", name, "tester", recipients)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func (f *knownFixture) set(t *testing.T, e *environment.Env, at time.Time, kv ...string) {
	t.Helper()
	f.now = at
	c := environment.Change{Kind: store.KindSet}
	for i := 0; i < len(kv); i += 2 {
		c.Set = append(c.Set, environment.Pair{Name: kv[i], Value: secret.New(kv[i+1])})
	}
	if _, err := e.Apply(context.Background(), c); err != nil {
		t.Fatal(err)
	}
}

// TestKnownLiveRetired: after a rotation the old value is retired (on the
// date of the version that replaced it) and the new one is live; values
// held by several variables list them all; short and low-entropy values are
// skipped and counted; the reveal is audited once, without values.
func TestKnownLiveRetired(t *testing.T) {
	ctx := context.Background()
	f := newKnownFixture(t)
	prod := f.env(t, "production")
	staging := f.env(t, "staging")
	other, _ := crypto.GenerateIdentity()
	f.env(t, "secret-ops", other.Recipient())

	jan, feb, mar := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	f.set(t, prod, jan, "STRIPE_SECRET_KEY", "sk_live_OLDoldOLD1234567890abc", "PORT", "8080", "MODE", "aaaaaaaaaaaa")
	f.set(t, prod, feb, "STRIPE_SECRET_KEY", "sk_live_NEWnewNEW0987654321xyz")
	f.set(t, staging, mar, "STRIPE_KEY", "sk_live_OLDoldOLD1234567890abc")
	f.now = mar
	// An unset variable: its values are retired at the unset.
	f.set(t, prod, mar, "LEGACY_TOKEN", "tok_Legacy-9Q2w8E7r6T")
	if _, err := prod.Apply(ctx, environment.Change{Kind: store.KindUnset, Unset: []string{"LEGACY_TOKEN"}}); err != nil {
		t.Fatal(err)
	}

	before, _ := f.st.Audit(ctx, "shop", store.AuditQuery{})
	ks, err := LoadKnown(ctx, f.st, "shop", f.id, "tester")
	if err != nil {
		t.Fatal(err)
	}
	after, _ := f.st.Audit(ctx, "shop", store.AuditQuery{})
	if len(after) != len(before)+1 || after[len(after)-1].Action != "scan" {
		t.Fatalf("want exactly one scan audit entry, got %d new", len(after)-len(before))
	}
	for _, v := range []string{"OLDold", "NEWnew", "Legacy"} {
		if e := after[len(after)-1]; strings.Contains(string(e.Detail), v) || strings.Contains(e.Name, v) {
			t.Fatal("audit entry holds a value")
		}
	}
	if ks.Skipped != 2 {
		t.Errorf("Skipped = %d, want 2 (PORT short, MODE low entropy)", ks.Skipped)
	}
	if len(ks.Notes) != 1 || !strings.Contains(ks.Notes[0], "secret-ops") {
		t.Errorf("notes %q, want one about secret-ops", ks.Notes)
	}
	got := map[string][]Owner{}
	for _, v := range ks.Values {
		got[v.Value.Reveal()] = v.Owners
	}
	old := got["sk_live_OLDoldOLD1234567890abc"]
	if len(old) != 2 || !old[0].Live || old[0].Environment != "staging" || old[1].Live || !old[1].RetiredAt.Equal(feb) {
		t.Errorf("old value owners = %+v, want live in staging, retired in production on %v", old, feb)
	}
	if n := got["sk_live_NEWnewNEW0987654321xyz"]; len(n) != 1 || !n[0].Live || n[0].Variable != "STRIPE_SECRET_KEY" {
		t.Errorf("new value owners = %+v, want live", n)
	}
	if l := got["tok_Legacy-9Q2w8E7r6T"]; len(l) != 1 || l[0].Live || !l[0].RetiredAt.Equal(mar) {
		t.Errorf("unset value owners = %+v, want retired on %v", l, mar)
	}
	if len(ks.Values) != 3 {
		t.Errorf("%d values, want 3", len(ks.Values))
	}

	// End to end in a working tree.
	dir := t.TempDir()
	r := &testRepo{t: t, dir: dir}
	r.write("leak.txt", "old: sk_live_OLDoldOLD1234567890abc\nnew: sk_live_NEWnewNEW0987654321xyz\nlegacy=tok_Legacy-9Q2w8E7r6T\n")
	res, err := (&Scanner{Detector: NewDetector(DefaultRules(), ks.Values)}).Run(ctx, &Tree{Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	want := map[int]string{
		1: "staging/STRIPE_KEY live", // still live in staging, retired in production
		2: "production/STRIPE_SECRET_KEY live",
		3: "production/LEGACY_TOKEN retired",
	}
	if len(res.Findings) != len(want) {
		t.Fatalf("%d findings, want %d", len(res.Findings), len(want))
	}
	for _, fd := range res.Findings {
		o := fd.Owners[0]
		if got := o.Environment + "/" + o.Variable + " " + o.Status(); fd.RuleID != KnownValueRule || got != want[fd.Line] {
			t.Errorf("line %d: %s %s, want %s", fd.Line, fd.RuleID, got, want[fd.Line])
		}
	}
	if !res.Findings[len(res.Findings)-1].Owners[0].RetiredAt.Equal(mar) {
		t.Error("retired finding has the wrong date")
	}
}
