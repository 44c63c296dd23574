package main

import (
	"bufio"
	"bytes"
	"io"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRunForwardsSignals sends SIGTERM, SIGINT and SIGHUP to `slickenv
// run`: the child receives each one (its trap decides the exit status,
// which run passes through); a child that does not trap dies of it and
// run exits 128+N.
func TestRunForwardsSignals(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("needs sh")
	}
	p := newProject(t)
	p.mustRun("", "set", "GREETING=hello")
	tests := []struct {
		name   string
		sig    syscall.Signal
		script string
		code   int
	}{
		{"TERM trapped", syscall.SIGTERM, `trap 'echo got TERM $GREETING; exit 3' TERM`, 3},
		{"INT trapped", syscall.SIGINT, `trap 'echo got INT $GREETING; exit 4' INT`, 4},
		{"HUP trapped", syscall.SIGHUP, `trap 'echo got HUP $GREETING; exit 5' HUP`, 5},
		{"TERM default", syscall.SIGTERM, ``, 128 + int(syscall.SIGTERM)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// The loop sleeps in short steps so the trap runs promptly.
			script := tt.script + "\necho ready\nwhile :; do sleep 0.05; done"
			cmd := p.command("", "run", "--", "sh", "-c", script)
			stdout, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			defer func() {
				select {
				case <-done:
				case <-time.After(10 * time.Second):
					cmd.Process.Kill()
					t.Error("run did not exit after the signal")
				}
			}()
			lines := bufio.NewReader(stdout)
			if line, err := lines.ReadString('\n'); err != nil || line != "ready\n" {
				t.Fatalf("first line %q, %v", line, err)
			}
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			rest, _ := io.ReadAll(lines)
			err = cmd.Wait()
			close(done)
			code := 0
			if ee, ok := err.(*exec.ExitError); ok {
				code = ee.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", code, tt.code, stderr.String())
			}
			if tt.script != "" {
				if want := "got " + strings.Fields(tt.name)[0] + " hello\n"; string(rest) != want {
					t.Errorf("child printed %q, want %q", rest, want)
				}
			}
		})
	}
}
