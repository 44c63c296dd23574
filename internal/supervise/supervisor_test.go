//go:build linux

package supervise

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestHandoffUnderLoad switches three times while a client sends a request
// every 5ms: no request may fail, and the answers move from each version's
// value to the next, never back.
func TestHandoffUnderLoad(t *testing.T) {
	for _, ready := range []string{"", "/healthz"} {
		t.Run("ready-url="+ready, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.setVersion(1, "VALUE=one")
			f.start(helperOptions{Watch: true, Listen: true, ReadyURL: ready, DrainTimeout: 10 * time.Second})
			base := "http://" + f.addr()
			load := startLoad(base+"/", 5*time.Millisecond)
			// Slow requests are in flight whenever an old child is told to stop.
			slow := startLoad(base+"/slow", 5*time.Millisecond)
			eventually(t, 10*time.Second, "first answer", func() bool { return load.current() == "one" })
			want := []string{"one"}
			for v, value := range []string{"two", "three", "four"} {
				time.Sleep(500 * time.Millisecond)
				f.setVersion(v+2, "VALUE="+value)
				eventually(t, 15*time.Second, "value "+value, func() bool { return load.current() == value })
				want = append(want, value)
			}
			// Let the last old child finish draining before the zombie check.
			eventually(t, 10*time.Second, "three completed switches", func() bool {
				return strings.Count(f.stderr.String(), ", stopped pid ") == 3
			})
			for _, l := range []struct {
				name string
				*loader
			}{{"fast", load}, {"slow", slow}} {
				requests, failures, values := l.finish()
				t.Logf("%s loop: %d requests, %d failed", l.name, requests, len(failures))
				if len(failures) > 0 {
					t.Errorf("%s loop: %d of %d requests failed: %q", l.name, len(failures), requests, failures)
				}
				if !slices.Equal(values, want) {
					t.Errorf("%s loop: answers went %q, want %q", l.name, values, want)
				}
			}
			if pids := f.serverPids(); len(pids) != 4 {
				t.Errorf("started %d servers, want 4", len(pids))
			}
			if z := zombies(f.cmd.Process.Pid); len(z) > 0 {
				t.Errorf("zombie children of the supervisor: %v", z)
			}
			for _, msg := range []string{"v1 → v2: started pid", "v3 → v4: started pid", "ready in"} {
				if !strings.Contains(f.stderr.String(), msg) {
					t.Errorf("stderr lacks %q", msg)
				}
			}
			if strings.Contains(f.stderr.String(), "VALUE=") || strings.Contains(f.stderr.String(), "three") {
				t.Error("stderr shows a value")
			}
		})
	}
}

// TestHandoffNotReady: a new child that exits, never accepts, or answers
// the ready URL with an error is stopped; the old one keeps serving without
// a failed request, and the next good version still switches.
func TestHandoffNotReady(t *testing.T) {
	tests := []struct {
		name, behaviour, readyURL, message string
		readyTimeout                       time.Duration
	}{
		{"exits", "exit3", "", "exited with status 3 before it was ready", time.Second},
		{"never accepts", "hang", "", "not ready within 1s", time.Second},
		{"unhealthy", "unhealthy", "/healthz", "(last probe: GET /healthz: 503 Service Unavailable)", 3 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			f.setVersion(1, "VALUE=one")
			f.start(helperOptions{Watch: true, Listen: true, ReadyURL: tt.readyURL, ReadyTimeout: tt.readyTimeout, DrainTimeout: 500 * time.Millisecond})
			load := startLoad("http://"+f.addr()+"/", 5*time.Millisecond)
			eventually(t, 10*time.Second, "first answer", func() bool { return load.current() == "one" })
			f.setVersion(2, "VALUE=two", "BEHAVIOUR="+tt.behaviour)
			eventually(t, 15*time.Second, "the failure message", func() bool { return strings.Contains(f.stderr.String(), tt.message) })
			if !strings.Contains(f.stderr.String(), "keeps serving v1") {
				t.Errorf("stderr does not say the old child keeps serving")
			}
			time.Sleep(700 * time.Millisecond) // the failed child is stopped (or killed)
			if got := load.current(); got != "one" {
				t.Errorf("serving %q after the failed switch, want one", got)
			}
			f.setVersion(3, "VALUE=three")
			eventually(t, 10*time.Second, "value three", func() bool { return load.current() == "three" })
			requests, failures, values := load.finish()
			t.Logf("%d requests, %d failed", requests, len(failures))
			if len(failures) > 0 {
				t.Errorf("%d of %d requests failed: %q", len(failures), requests, failures)
			}
			if want := []string{"one", "three"}; !slices.Equal(values, want) {
				t.Errorf("answers went %q, want %q", values, want)
			}
			time.Sleep(300 * time.Millisecond)
			if z := zombies(f.cmd.Process.Pid); len(z) > 0 {
				t.Errorf("zombie children of the supervisor: %v", z)
			}
		})
	}
}

// TestRestart switches without a listener: the child is stopped, then the
// new one started. Requests in between may fail; the test reports how many.
func TestRestart(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	addr := freePort(t)
	f.setVersion(1, "VALUE=one")
	f.start(helperOptions{Watch: true, DrainTimeout: 5 * time.Second}, "TEST_ADDR="+addr)
	waitServing(t, "http://"+addr+"/")
	load := startLoad("http://"+addr+"/", 5*time.Millisecond)
	eventually(t, 10*time.Second, "first answer", func() bool { return load.current() == "one" })
	f.setVersion(2, "VALUE=two")
	eventually(t, 10*time.Second, "value two", func() bool { return load.current() == "two" })
	requests, failures, _ := load.finish()
	t.Logf("plain restart: %d requests, %d failed (allowed)", requests, len(failures))
	if !strings.Contains(f.stderr.String(), "(restart)") {
		t.Error("stderr lacks the restart message")
	}
	if pids := f.serverPids(); len(pids) != 2 {
		t.Errorf("started %d servers, want 2", len(pids))
	}
}

// TestReloadSignal rewrites the env file and sends SIGHUP to the same child.
func TestReloadSignal(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	addr := freePort(t)
	envFile := filepath.Join(f.dir, "app.env")
	f.setVersion(1, "VALUE=one")
	f.start(helperOptions{Watch: true, Reload: true}, "TEST_ADDR="+addr, "ENV_FILE="+envFile)
	waitServing(t, "http://"+addr+"/")
	load := startLoad("http://"+addr+"/", 5*time.Millisecond)
	eventually(t, 10*time.Second, "first answer", func() bool { return load.current() == "one" })
	f.setVersion(2, "VALUE='two words'")
	eventually(t, 10*time.Second, "value two", func() bool { return load.current() == "two words" })
	_, failures, _ := load.finish()
	if len(failures) > 0 {
		t.Errorf("failed requests: %q", failures)
	}
	data, err := os.ReadFile(envFile)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "VALUE='two words'\n" {
		t.Errorf("env file = %q", data)
	}
	if fi, _ := os.Stat(envFile); fi.Mode().Perm() != 0o600 {
		t.Errorf("env file mode %v, want 0600", fi.Mode().Perm())
	}
	if pids := f.serverPids(); len(pids) != 1 {
		t.Errorf("started %d servers, want 1 (reload, not restart)", len(pids))
	}
	if !strings.Contains(f.stderr.String(), "sent SIGHUP to pid") {
		t.Error("stderr lacks the reload message")
	}
}

// TestSignalsAndExitCodes: signals reach the child, and its status is
// the supervisor's.
func TestSignalsAndExitCodes(t *testing.T) {
	t.Run("exit 3", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.setVersion(1, "BEHAVIOUR=exit3")
		f.start(helperOptions{})
		if code := f.wait(10 * time.Second); code != 3 {
			t.Errorf("exit status %d, want 3", code)
		}
	})
	t.Run("killed child", func(t *testing.T) {
		t.Parallel()
		f := newFixture(t)
		f.setVersion(1, "VALUE=one")
		f.start(helperOptions{Watch: true})
		eventually(t, 10*time.Second, "the child", func() bool { return len(f.serverPids()) == 1 })
		syscall.Kill(f.serverPids()[0], syscall.SIGKILL)
		if code := f.wait(10 * time.Second); code != 137 {
			t.Errorf("exit status %d, want 137", code)
		}
	})
	t.Run("forwarding", func(t *testing.T) {
		t.Parallel()
		for _, final := range []struct {
			sig  syscall.Signal
			code int
		}{{syscall.SIGTERM, 0}, {syscall.SIGINT, 4}} {
			f := newFixture(t)
			f.setVersion(1, "VALUE=one")
			f.start(helperOptions{Watch: true})
			eventually(t, 10*time.Second, "the child", func() bool { return len(f.serverPids()) == 1 })
			pid := f.serverPids()[0]
			for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGUSR1, final.sig} {
				f.cmd.Process.Signal(sig)
				want := "signal " + itoa(pid) + " " + signalName(sig)
				eventually(t, 5*time.Second, want, func() bool {
					b, _ := os.ReadFile(f.serverLog())
					return strings.Contains(string(b), want)
				})
			}
			if code := f.wait(10 * time.Second); code != final.code {
				t.Errorf("after %v: exit status %d, want %d", final.sig, code, final.code)
			}
		}
	})
}

// TestTerminateDuringHandoff: SIGTERM while a new child is starting stops
// both children and exits with the serving child's status.
func TestTerminateDuringHandoff(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.setVersion(1, "VALUE=one")
	f.start(helperOptions{Watch: true, Listen: true, ReadyTimeout: 20 * time.Second, DrainTimeout: 500 * time.Millisecond})
	f.addr()
	eventually(t, 10*time.Second, "the child", func() bool { return len(f.serverPids()) == 1 })
	f.setVersion(2, "VALUE=two", "BEHAVIOUR=hang")
	eventually(t, 10*time.Second, "the new child", func() bool { return len(f.serverPids()) == 2 })
	f.cmd.Process.Signal(syscall.SIGTERM)
	if code := f.wait(10 * time.Second); code != 0 {
		t.Errorf("exit status %d, want 0", code)
	}
	for _, pid := range f.serverPids() {
		if err := syscall.Kill(pid, 0); err == nil {
			t.Errorf("pid %d still runs", pid)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestReapsOrphans stands in for PID 1 (as a child subreaper): orphans
// that the child leaves behind are reaped, and the exit status still
// passes through.
func TestReapsOrphans(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("needs sh")
	}
	f := newFixture(t)
	f.setVersion(1, "VALUE=one", "BEHAVIOUR=orphans")
	f.start(helperOptions{ReapOrphans: true})
	eventually(t, 10*time.Second, "the orphans", func() bool {
		b, _ := os.ReadFile(f.serverLog())
		return strings.Contains(string(b), "orphaned")
	})
	time.Sleep(800 * time.Millisecond) // the orphans exit after 300ms
	if z := zombies(f.cmd.Process.Pid); len(z) > 0 {
		t.Errorf("zombie children of the supervisor: %v", z)
	}
	f.cmd.Process.Signal(syscall.SIGINT)
	if code := f.wait(10 * time.Second); code != 4 {
		t.Errorf("exit status %d, want 4", code)
	}
}
