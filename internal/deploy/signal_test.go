package deploy

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// startTrapper starts a shell that appends "got NAME" to dir/signals for
// every HUP or USR1 it receives, writes its pid to dir/app.pid once the traps
// are set, and is killed when the test ends.
func startTrapper(t *testing.T, dir string) (pidfile string) {
	t.Helper()
	script := `trap 'echo got HUP >> signals' HUP; trap 'echo got USR1 >> signals' USR1
echo $$ > app.pid.tmp; mv app.pid.tmp app.pid
while :; do sleep 0.05; done`
	cmd := exec.Command("sh", "-c", script)
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	pidfile = filepath.Join(dir, "app.pid")
	if pid := readPid(t, pidfile); pid != cmd.Process.Pid {
		t.Fatalf("pidfile says %d, started %d", pid, cmd.Process.Pid)
	}
	return pidfile
}

func TestSignalDelivers(t *testing.T) {
	dir := t.TempDir()
	pidfile := startTrapper(t, dir)
	// Pidfiles often end in a newline; some have blanks around the pid.
	pid := readPid(t, pidfile)
	if err := os.WriteFile(pidfile, []byte("  "+strconv.Itoa(pid)+"\n\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	received := filepath.Join(dir, "signals")

	target := NewSignal(pidfile, "sighup")
	if got, want := target.Describe(), "signal HUP to "+pidfile; got != want {
		t.Errorf("Describe() = %q, want %q", got, want)
	}
	if err := target.Deploy(context.Background(), Request{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { data, _ := os.ReadFile(received); return string(data) == "got HUP\n" })

	if err := NewSignal(pidfile, "USR1").Deploy(context.Background(), Request{}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { data, _ := os.ReadFile(received); return string(data) == "got HUP\ngot USR1\n" })
}

func TestSignalErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// A pid that certainly belongs to no process: one of a child that exited.
	exited := exec.Command("true")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	deadPid := exited.ProcessState.Pid()

	tests := []struct {
		name, pidfile, signal, want string
	}{
		{"missing pidfile", filepath.Join(dir, "missing.pid"), "HUP", "pidfile " + dir + "/missing.pid does not exist (is the process running?)"},
		{"dead process", write("dead.pid", strconv.Itoa(deadPid)), "HUP", "process " + strconv.Itoa(deadPid) + " (from pidfile " + dir + "/dead.pid) is not running"},
		{"empty pidfile", write("empty.pid", "\n"), "HUP", `does not hold a process id (found "")`},
		{"garbage", write("garbage.pid", "12ab"), "HUP", `does not hold a process id (found "12ab")`},
		{"zero", write("zero.pid", "0"), "HUP", `does not hold a process id (found "0")`},
		{"negative (a process group)", write("neg.pid", "-1"), "HUP", `does not hold a process id (found "-1")`},
		{"unsupported signal", write("ok.pid", "1"), "KILL", `unsupported signal "KILL"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := NewSignal(tt.pidfile, tt.signal).Deploy(context.Background(), Request{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}
