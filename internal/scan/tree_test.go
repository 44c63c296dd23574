package scan

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func findingPaths(t *testing.T, src Source) []string {
	t.Helper()
	res, err := (&Scanner{Detector: NewDetector(DefaultRules(), nil)}).Run(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range res.Findings {
		out = append(out, f.Path)
	}
	slices.Sort(out)
	return out
}

// TestTreeHonoursGitignore: inside a repository, ignored files are not
// read; untracked ones are; ignore_paths apply; paths are relative to the
// repository root even when scanning a subdirectory.
func TestTreeHonoursGitignore(t *testing.T) {
	r := newTestRepo(t)
	r.write(".gitignore", "*.log\n")
	r.write("app/tracked.env", "K="+plantedAWS+"\n")
	r.commit("Alice", "2025-01-01T00:00:00Z", "init")
	r.write("app/untracked.env", "K="+plantedStripe+"\n")
	r.write("app/debug.log", "K="+plantedAWS+"\n")
	r.write("app/testdata/fixture.env", "K="+plantedAWS+"\n")
	got := findingPaths(t, &Tree{Root: r.dir, Ignore: NewPathFilter([]string{"**/testdata/**"})})
	if want := []string{"app/tracked.env", "app/untracked.env"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	got = findingPaths(t, &Tree{Root: filepath.Join(r.dir, "app")})
	if want := []string{"app/testdata/fixture.env", "app/tracked.env", "app/untracked.env"}; !slices.Equal(got, want) {
		t.Errorf("subdirectory: got %v, want %v", got, want)
	}
	got = findingPaths(t, &Tree{Root: filepath.Join(r.dir, "app", "tracked.env")})
	if want := []string{"app/tracked.env"}; !slices.Equal(got, want) {
		t.Errorf("one file: got %v, want %v", got, want)
	}
}

func TestTreeOutsideGit(t *testing.T) {
	dir := t.TempDir()
	r := &testRepo{t: t, dir: dir}
	r.write("a/b.env", "K="+plantedAWS+"\n")
	r.write(".git/config", "K="+plantedAWS+"\n") // not a repository, still skipped
	r.write("big.env", strings.Repeat("x", 100)+plantedAWS)
	got := findingPaths(t, &Tree{Root: dir, MaxSize: 64})
	if want := []string{"a/b.env"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestStaged(t *testing.T) {
	r := newTestRepo(t)
	r.write("committed.env", "K="+plantedAWS+"\n")
	r.commit("Alice", "2025-01-01T00:00:00Z", "init")
	r.write("staged.env", "K="+plantedStripe+"\n")
	r.git("add", "staged.env")
	r.write("staged.env", "K=clean\n") // the working copy differs: the index is what counts
	r.write("unstaged.env", "K="+plantedGitHub+"\n")
	got := findingPaths(t, &Staged{Dir: r.dir})
	if want := []string{"staged.env"}; !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	if _, err := (&Scanner{Detector: NewDetector(nil, nil)}).Run(context.Background(), &Staged{Dir: t.TempDir()}); !errors.Is(err, ErrNotGitRepository) {
		t.Errorf("outside a repository: %v, want ErrNotGitRepository", err)
	}
}

func TestInstallHook(t *testing.T) {
	r := newTestRepo(t)
	ctx := context.Background()
	path, err := InstallHook(ctx, r.dir, false)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	if string(data) != HookScript || !strings.HasSuffix(filepath.ToSlash(path), ".git/hooks/pre-commit") {
		t.Fatalf("hook at %s: %q", path, data)
	}
	if info, _ := os.Stat(path); info.Mode().Perm()&0o100 == 0 {
		t.Error("hook not executable")
	}
	if _, err := InstallHook(ctx, r.dir, false); err != nil {
		t.Errorf("reinstall: %v", err)
	}
	os.WriteFile(path, []byte("#!/bin/sh\nmake lint\n"), 0o755)
	if _, err := InstallHook(ctx, r.dir, false); !errors.Is(err, ErrForeignHook) {
		t.Errorf("foreign hook: %v, want ErrForeignHook", err)
	}
	if data, _ := os.ReadFile(path); string(data) != "#!/bin/sh\nmake lint\n" {
		t.Error("foreign hook overwritten without force")
	}
	if _, err := InstallHook(ctx, r.dir, true); err != nil {
		t.Errorf("force: %v", err)
	}
}

func TestBaseline(t *testing.T) {
	r := newTestRepo(t)
	r.write("a.env", "K="+plantedAWS+"\nS="+plantedStripe+"\n")
	r.commit("Alice", "2025-01-01T00:00:00Z", "init")
	s := &Scanner{Detector: NewDetector(DefaultRules(), nil)}
	res, err := s.Run(context.Background(), &History{Dir: r.dir})
	if err != nil || len(res.Findings) != 2 {
		t.Fatalf("%v, %d findings", err, len(res.Findings))
	}
	// A JSON report of the first finding is a baseline.
	rep := &Report{Findings: res.Findings[:1], Redact: true}
	path := filepath.Join(t.TempDir(), "baseline.json")
	f, _ := os.Create(path)
	WriteJSON(f, rep)
	f.Close()
	if data, _ := os.ReadFile(path); strings.Contains(string(data), plantedAWS) || strings.Contains(string(data), plantedStripe) {
		t.Fatal("baseline file holds a secret")
	}
	b, err := LoadBaseline(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Baseline = b
	res2, err := s.Run(context.Background(), &History{Dir: r.dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(res2.Findings) != 1 || res2.Baselined != 1 || res2.Findings[0].Fingerprint == res.Findings[0].Fingerprint {
		t.Errorf("with baseline: %d findings, %d baselined; want 1 and 1", len(res2.Findings), res2.Baselined)
	}
}

func TestProgress(t *testing.T) {
	dir := t.TempDir()
	r := &testRepo{t: t, dir: dir}
	r.write("a.txt", "hello")
	var calls atomic.Int64
	s := &Scanner{Detector: NewDetector(DefaultRules(), nil), Progress: func(int64, int64) { calls.Add(1) }}
	slow := sourceFunc(func(ctx context.Context, emit func(Blob) error) error {
		time.Sleep(450 * time.Millisecond)
		return emit(Blob{Path: "x", Data: []byte("AKIAZ5WQ3RJX2N7TLMPE")})
	})
	res, err := s.Run(context.Background(), slow)
	if err != nil || len(res.Findings) != 1 {
		t.Fatalf("%v, %d findings", err, len(res.Findings))
	}
	if calls.Load() == 0 {
		t.Error("Progress never called")
	}
}

type sourceFunc func(ctx context.Context, emit func(Blob) error) error

func (f sourceFunc) Blobs(ctx context.Context, emit func(Blob) error) error { return f(ctx, emit) }
