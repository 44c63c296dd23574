package verify

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/slickenv/slickenv/internal/secret"
)

// timedRecorder records the progress of a check with the time since start.
type timedRecorder struct {
	start time.Time
	mu    sync.Mutex
	seen  []Progress
	at    []time.Duration
}

func newTimedRecorder() *timedRecorder { return &timedRecorder{start: time.Now()} }

func (r *timedRecorder) add(p Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, p)
	r.at = append(r.at, time.Since(r.start))
}

func (r *timedRecorder) last() (Progress, time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.seen) == 0 {
		return Progress{}, 0
	}
	return r.seen[len(r.seen)-1], r.at[len(r.at)-1]
}

func countLines(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(data), "\n")
}

func TestCommandStartAndEnd(t *testing.T) {
	dir := t.TempDir()
	check := NewCommand([]string{"sh", "-c", `echo run >> runs`}, dir, 0)
	if got := check.Describe(); got != `command sh -c "echo run >> runs"` {
		t.Errorf("Describe() = %s", got)
	}
	const window = 200 * time.Millisecond
	rec := newTimedRecorder()
	if err := check.Run(context.Background(), window, rec.add); err != nil {
		t.Fatal(err)
	}
	last, at := rec.last()
	runs := countLines(t, filepath.Join(dir, "runs"))
	// One run at the start, one at the end (unless the first outlasted the
	// window); the last observation is never before the window's end.
	if runs < 1 || runs > 2 || last.Total != runs || last.Succeeded != runs || last.Kind != KindCommand {
		t.Fatalf("%d runs, progress %+v", runs, last)
	}
	if at < window {
		t.Fatalf("last run reported at %v, before the end of the %v window", at, window)
	}
}

func TestCommandEvery(t *testing.T) {
	dir := t.TempDir()
	const window = 300 * time.Millisecond
	rec := newTimedRecorder()
	if err := NewCommand([]string{"sh", "-c", `echo run >> runs`}, dir, 100*time.Millisecond).Run(context.Background(), window, rec.add); err != nil {
		t.Fatal(err)
	}
	last, at := rec.last()
	runs := countLines(t, filepath.Join(dir, "runs"))
	// At 0, 100, 200 and 300ms; a slow machine may skip beats.
	if runs < 1 || runs > 4 || last.Total != runs {
		t.Fatalf("%d runs, progress %+v", runs, last)
	}
	if at < window {
		t.Fatalf("last run reported at %v, before the end of the window", at)
	}
}

func TestCommandZeroWindowRunsOnce(t *testing.T) {
	dir := t.TempDir()
	if err := NewCommand([]string{"sh", "-c", `echo run >> runs`}, dir, 0).Run(context.Background(), 0, nil); err != nil {
		t.Fatal(err)
	}
	if runs := countLines(t, filepath.Join(dir, "runs")); runs != 1 {
		t.Fatalf("%d runs, want 1", runs)
	}
}

func TestCommandFails(t *testing.T) {
	dir := t.TempDir()
	// Fails on its second run, printing a value it should not.
	script := `echo run >> runs; [ "$(wc -l < runs)" -lt 2 ] || { echo "using hunter2-secret" >&2; echo boom >&2; exit 4; }`
	check := NewCommand([]string{"sh", "-c", script}, dir, 50*time.Millisecond).(*Command)
	check.Redact = []secret.Value{secret.New("hunter2-secret")}
	rec := newTimedRecorder()
	err := check.Run(context.Background(), time.Hour, rec.add)
	if err == nil {
		t.Fatal("check held")
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, "command check sh -c ") || !strings.Contains(msg, ": run 2 (at ") ||
		!strings.HasSuffix(msg, "): exit code 4; stderr: using **redacted** / boom") {
		t.Fatalf("error = %s", msg)
	}
	if last, _ := rec.last(); last.Total != 2 || last.Succeeded != 1 {
		t.Fatalf("progress %+v", last)
	}
}

func TestCommandEnvironment(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SLICKENV_ROTATION_ID", "inherited")
	check := NewCommand([]string{"sh", "-c", `echo "$SLICKENV_ROTATION_ID $SLICKENV_ENV $SLICKENV_VERSION" > env.txt`}, dir, 0).(*Command)
	check.RotationID, check.Env, check.Version = "rot-9", "production", 7
	if err := check.Run(context.Background(), 0, nil); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "env.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if got := string(data); got != "rot-9 production 7\n" {
		t.Fatalf("environment: %q", got)
	}
}

func TestCommandRunTimeout(t *testing.T) {
	dir := t.TempDir()
	check := NewCommand([]string{"sh", "-c", `sleep 30 & echo $! > child.pid; wait`}, dir, 0).(*Command)
	check.Timeout = 200 * time.Millisecond
	err := check.Run(context.Background(), time.Minute, nil)
	if err == nil || !strings.HasSuffix(err.Error(), "timed out after 200ms, killed") {
		t.Fatalf("error = %v", err)
	}
	if errors.Is(err, context.Canceled) {
		t.Fatal("a run's timeout reported as an interruption")
	}
	waitDead(t, readPid(t, filepath.Join(dir, "child.pid")))
}

func TestCommandInterrupted(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- NewCommand([]string{"sh", "-c", `sleep 30 & echo $! > child.pid; wait`}, dir, 0).Run(ctx, time.Minute, nil)
	}()
	pid := readPid(t, filepath.Join(dir, "child.pid"))
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	waitDead(t, pid)
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	var pid int
	waitFor(t, func() bool {
		data, err := os.ReadFile(path)
		if err != nil {
			return false
		}
		pid, err = strconv.Atoi(strings.TrimSpace(string(data)))
		return err == nil
	})
	return pid
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitDead waits until pid is gone or a zombie.
func waitDead(t *testing.T, pid int) {
	t.Helper()
	waitFor(t, func() bool {
		if syscall.Kill(pid, 0) != nil {
			return true
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return true
		}
		s := string(stat)
		i := strings.LastIndexByte(s, ')')
		return i >= 0 && i+2 < len(s) && s[i+2] == 'Z'
	})
}
