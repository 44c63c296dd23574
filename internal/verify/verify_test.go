package verify

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// snapshots records what RunAll reports and checks that calls never overlap.
type snapshots struct {
	mu      sync.Mutex
	busy    bool
	all     [][]Progress
	overlap bool
}

func (s *snapshots) add(ps []Progress) {
	s.mu.Lock()
	if s.busy {
		s.overlap = true
	}
	s.busy = true
	s.mu.Unlock()
	time.Sleep(time.Millisecond)
	s.mu.Lock()
	s.busy = false
	s.all = append(s.all, ps)
	s.mu.Unlock()
}

func TestRunAllHolds(t *testing.T) {
	srv1 := newTestServer(t, ok)
	srv2 := newTestServer(t, ok)
	dir := t.TempDir()
	checks := []Check{
		NewHTTP(srv1.URL, 50*time.Millisecond, 1),
		NewCommand([]string{"sh", "-c", "echo run >> runs"}, dir, 0),
		NewHTTP(srv2.URL, 50*time.Millisecond, 1),
	}
	var snaps snapshots
	if err := RunAll(context.Background(), 200*time.Millisecond, checks, snaps.add); err != nil {
		t.Fatal(err)
	}
	if snaps.overlap {
		t.Error("progress calls overlapped")
	}
	first := snaps.all[0]
	want := []Progress{
		{Check: "http " + srv1.URL, Kind: KindHTTP},
		{Check: `command sh -c "echo run >> runs"`, Kind: KindCommand},
		{Check: "http " + srv2.URL, Kind: KindHTTP},
	}
	if !slices.Equal(first, want) {
		t.Fatalf("first snapshot %+v, want %+v", first, want)
	}
	last := snaps.all[len(snaps.all)-1]
	succeeded, total := LiveRequests(last)
	served := int(srv1.requests.Load() + srv2.requests.Load())
	if total != served || succeeded != total || total < 2 {
		t.Fatalf("live requests %d/%d, servers saw %d", succeeded, total, served)
	}
	if runs := countLines(t, filepath.Join(dir, "runs")); last[1].Total != runs || last[1].Succeeded != runs {
		t.Fatalf("command progress %+v, %d runs", last[1], runs)
	}
}

// TestRunAllCancelsOthers checks that one failing check ends the window at
// once and kills the commands of the others.
func TestRunAllCancelsOthers(t *testing.T) {
	srv := newTestServer(t, func(n int64, w http.ResponseWriter, _ *http.Request) {
		if n >= 3 {
			w.WriteHeader(http.StatusBadGateway)
		}
	})
	dir := t.TempDir()
	httpCheck := NewHTTP(srv.URL, 50*time.Millisecond, 1)
	checks := []Check{
		NewCommand([]string{"sh", "-c", `sleep 30 & echo $! > child.pid; wait`}, dir, 0),
		httpCheck,
	}
	start := time.Now()
	err := RunAll(context.Background(), time.Hour, checks, nil)
	if !errors.Is(err, ErrFailed) {
		t.Fatalf("error = %v, want ErrFailed", err)
	}
	var failure *Failure
	if !errors.As(err, &failure) || failure.Check != httpCheck.Describe() {
		t.Fatalf("failure = %+v", failure)
	}
	if want := "http check " + srv.URL + ": 1 of 3 requests failed (66.7% < 100%): last failure: status 502 Bad Gateway"; err.Error() != want {
		t.Fatalf("error = %v\n want %s", err, want)
	}
	if elapsed := time.Since(start); elapsed > 20*time.Second {
		t.Fatalf("RunAll returned after %v", elapsed)
	}
	waitDead(t, readPid(t, filepath.Join(dir, "child.pid")))
}

func TestRunAllInterrupted(t *testing.T) {
	srv := newTestServer(t, ok)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		time.Sleep(100 * time.Millisecond)
		cancel()
	}()
	err := RunAll(ctx, time.Hour, []Check{NewHTTP(srv.URL, 20*time.Millisecond, 1)}, nil)
	if !errors.Is(err, context.Canceled) || errors.Is(err, ErrFailed) || !strings.HasPrefix(err.Error(), "verification interrupted: ") {
		t.Fatalf("error = %v", err)
	}
}

func TestRunAllWithoutChecksWaitsOutTheWindow(t *testing.T) {
	var snaps snapshots
	start := time.Now()
	if err := RunAll(context.Background(), 100*time.Millisecond, nil, snaps.add); err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed < 100*time.Millisecond {
		t.Fatalf("returned after %v", elapsed)
	}
	if len(snaps.all) != 1 || len(snaps.all[0]) != 0 {
		t.Fatalf("snapshots %v", snaps.all)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := RunAll(ctx, time.Hour, nil, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v", err)
	}
}

// fakeCheck is a check of another package: no kind.
type fakeCheck struct{ err error }

func (f fakeCheck) Describe() string { return "fake" }
func (f fakeCheck) Run(ctx context.Context, window time.Duration, progress func(Progress)) error {
	progress(Progress{Succeeded: 1, Total: 1})
	return f.err
}

func TestRunAllOtherChecks(t *testing.T) {
	var snaps snapshots
	if err := RunAll(context.Background(), 0, []Check{fakeCheck{}}, snaps.add); err != nil {
		t.Fatal(err)
	}
	if last := snaps.all[len(snaps.all)-1]; !slices.Equal(last, []Progress{{Check: "fake", Succeeded: 1, Total: 1}}) {
		t.Fatalf("snapshot %+v", last)
	}
	if s, total := LiveRequests(snaps.all[len(snaps.all)-1]); s != 0 || total != 0 {
		t.Fatalf("LiveRequests counted a non-http check: %d/%d", s, total)
	}
	boom := errors.New("fake check: boom")
	err := RunAll(context.Background(), 0, []Check{fakeCheck{err: boom}}, nil)
	if !errors.Is(err, ErrFailed) || !errors.Is(err, boom) || err.Error() != "fake check: boom" {
		t.Fatalf("error = %v", err)
	}
}
