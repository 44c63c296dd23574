package deploy

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestCommandEnvironment(t *testing.T) {
	dir := t.TempDir()
	// An old value inherited from slickenv's own environment must not reach
	// the hook either.
	t.Setenv("WEBHOOK_SECRET", "old-secret-value")
	t.Setenv("SLICKENV_VERSION", "stale")
	t.Setenv("UNRELATED", "kept")
	script := `printf '%s\n' "$0" "$@" > argv.txt; env > env.txt`
	target := NewCommand([]string{"sh", "-c", script, "hook", "--flag", "two words"}, dir)
	if got, want := target.Describe(), `command sh -c "printf '%s\\n' \"$0\" \"$@\" > argv.txt; env > env.txt" hook --flag "two words"`; got != want {
		t.Errorf("Describe() = %s, want %s", got, want)
	}
	req := Request{RotationID: "rot-123", Env: "production", Version: 42,
		Set: values("WEBHOOK_SECRET", "new-secret-value", "WEBHOOK_SECRET_PREVIOUS", "old-secret-value"), Unset: []string{"GONE"}}
	t.Setenv("GONE", "gone-secret-value")
	if err := target.Deploy(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	argv := readFile(t, filepath.Join(dir, "argv.txt"))
	if argv != "hook\n--flag\ntwo words\n" {
		t.Errorf("argv = %q", argv)
	}
	env := readFile(t, filepath.Join(dir, "env.txt"))
	for _, want := range []string{"SLICKENV_ROTATION_ID=rot-123\n", "SLICKENV_ENV=production\n", "SLICKENV_VERSION=42\n", "UNRELATED=kept\n"} {
		if !strings.Contains(env, want) {
			t.Errorf("environment lacks %q", want)
		}
	}
	for _, leak := range []string{"secret-value", "WEBHOOK_SECRET", "GONE=", "stale"} {
		if strings.Contains(argv+env, leak) {
			t.Errorf("argv or environment contains %q", leak)
		}
	}
}

func TestCommandFailure(t *testing.T) {
	dir := t.TempDir()
	envFile := filepath.Join(dir, ".env")
	if err := os.WriteFile(envFile, []byte("A=new-secret-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The hook prints ten lines, then the value it read (set -x style), to
	// stderr and fails.
	script := `for i in 1 2 3 4 5 6 7 8 9 10; do echo "line $i" >&2; done; echo "+ export $(cat "$1")" >&2; echo out; exit 3`
	target := NewCommand([]string{"sh", "-c", script, "sh", envFile}, dir)
	err := target.Deploy(context.Background(), Request{Set: values("A", "new-secret-value")})
	if err == nil {
		t.Fatal("Deploy succeeded")
	}
	msg := err.Error()
	want := "exit code 3; stderr: line 7 / line 8 / line 9 / line 10 / + export A=**redacted**"
	if msg != want {
		t.Fatalf("error = %q\n want %q", msg, want)
	}
}

func TestCommandKilledBySignal(t *testing.T) {
	err := NewCommand([]string{"sh", "-c", "kill -TERM $$"}, "").Deploy(context.Background(), Request{})
	if err == nil || err.Error() != "killed by signal TERM" {
		t.Fatalf("error = %v", err)
	}
}

func TestCommandRelativeProgram(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "hook.sh"), []byte("#!/bin/sh\necho ran > ran.txt\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := NewCommand([]string{"./hook.sh"}, dir).Deploy(context.Background(), Request{}); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, filepath.Join(dir, "ran.txt")); got != "ran\n" {
		t.Fatalf("ran.txt = %q", got)
	}
}

func TestCommandNotFound(t *testing.T) {
	err := NewCommand([]string{"slickenv-no-such-program"}, "").Deploy(context.Background(), Request{})
	if err == nil || !strings.Contains(err.Error(), "slickenv-no-such-program") {
		t.Fatalf("error = %v", err)
	}
	err = NewCommand([]string{"./missing.sh"}, t.TempDir()).Deploy(context.Background(), Request{})
	if err == nil || !strings.Contains(err.Error(), "./missing.sh: no such file or directory") {
		t.Fatalf("error = %v", err)
	}
}

// TestCommandTimeout checks that a hook running past its timeout is killed
// together with what it started, promptly.
func TestCommandTimeout(t *testing.T) {
	dir := t.TempDir()
	target := NewCommand([]string{"sh", "-c", `sleep 30 & echo $! > child.pid; echo waiting >&2; wait`}, dir).(*commandTarget)
	target.timeout = 300 * time.Millisecond
	start := time.Now()
	err := target.Deploy(context.Background(), Request{})
	if !errors.Is(err, context.DeadlineExceeded) || err.Error() != "timed out after 300ms, killed; stderr: waiting" {
		t.Fatalf("error = %v", err)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Fatalf("Deploy returned after %v", elapsed)
	}
	waitDead(t, readPid(t, filepath.Join(dir, "child.pid")))
}

func TestCommandCanceled(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- NewCommand([]string{"sh", "-c", `sleep 30 & echo $! > child.pid; wait`}, dir).Deploy(ctx, Request{})
	}()
	pidfile := filepath.Join(dir, "child.pid")
	waitFor(t, func() bool { _, err := os.Stat(pidfile); return err == nil })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	waitDead(t, readPid(t, pidfile))
}

// TestCommandLeavesDaemon checks that a hook may start a daemon that keeps
// its stderr open: the hook's own exit status decides.
func TestCommandLeavesDaemon(t *testing.T) {
	dir := t.TempDir()
	target := NewCommand([]string{"sh", "-c", `sleep 3 & echo $! > child.pid; exit 0`}, dir)
	if err := target.Deploy(context.Background(), Request{}); err != nil {
		t.Fatalf("Deploy: %v", err)
	}
	pid := readPid(t, filepath.Join(dir, "child.pid"))
	if alive(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
	}
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

// alive reports whether pid is a running process (not a zombie).
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	// The state follows the parenthesised command name.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

func waitDead(t *testing.T, pid int) {
	t.Helper()
	waitFor(t, func() bool { return !alive(pid) })
}
