//go:build linux

package supervise

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func setSubreaper() error {
	const prSetChildSubreaper = 36
	if _, _, errno := syscall.RawSyscall(syscall.SYS_PRCTL, prSetChildSubreaper, 1, 0); errno != 0 {
		return errno
	}
	return nil
}

// fixture is a version directory and a supervisor helper running over it.
type fixture struct {
	t      *testing.T
	dir    string
	cmd    *exec.Cmd
	stderr *syncBuffer
	waited chan struct{}
	code   int
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newFixture(t *testing.T) *fixture {
	return &fixture{t: t, dir: t.TempDir(), stderr: &syncBuffer{}, waited: make(chan struct{})}
}

// setVersion writes version n's variables, then makes it the head.
func (f *fixture) setVersion(n int, kv ...string) {
	f.t.Helper()
	body := strings.Join(kv, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(f.dir, "v"+strconv.Itoa(n)), []byte(body), 0o600); err != nil {
		f.t.Fatal(err)
	}
	if err := replaceFile(filepath.Join(f.dir, "head"), []byte(strconv.Itoa(n))); err != nil {
		f.t.Fatal(err)
	}
}

// start runs the supervisor helper with h (Dir filled in) and extra
// environment variables.
func (f *fixture) start(h helperOptions, env ...string) {
	f.t.Helper()
	h.Dir = f.dir
	b, _ := json.Marshal(h)
	cmd := exec.Command(os.Args[0], "__supervise", string(b))
	cmd.Env = append(os.Environ(), "SERVER_LOG="+f.serverLog())
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = io.MultiWriter(f.stderr, testWriter{f.t})
	if err := cmd.Start(); err != nil {
		f.t.Fatal(err)
	}
	f.cmd = cmd
	go func() {
		cmd.Wait()
		f.code = cmd.ProcessState.ExitCode()
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			f.code = 128 + int(ws.Signal())
		}
		close(f.waited)
	}()
	f.t.Cleanup(func() {
		select {
		case <-f.waited:
		default:
			cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-f.waited:
			case <-time.After(15 * time.Second):
				cmd.Process.Kill()
				f.t.Error("supervisor did not exit after SIGTERM")
			}
		}
	})
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func (f *fixture) serverLog() string { return filepath.Join(f.dir, "server.log") }

// wait waits for the supervisor to exit and returns its status.
func (f *fixture) wait(timeout time.Duration) int {
	f.t.Helper()
	select {
	case <-f.waited:
		return f.code
	case <-time.After(timeout):
		f.t.Fatalf("supervisor still running after %v", timeout)
		return 0
	}
}

// addr waits for the helper's listening address.
func (f *fixture) addr() string {
	f.t.Helper()
	var a []byte
	eventually(f.t, 10*time.Second, "listening address", func() bool {
		var err error
		a, err = os.ReadFile(filepath.Join(f.dir, "addr"))
		return err == nil
	})
	return string(a)
}

// serverPids returns the pids that logged "start" (in order).
func (f *fixture) serverPids() []int {
	b, _ := os.ReadFile(f.serverLog())
	var pids []int
	for _, line := range strings.Split(string(b), "\n") {
		var pid int
		if _, err := fmt.Sscanf(line, "start %d", &pid); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

func eventually(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// zombies lists the defunct children of pid.
func zombies(pid int) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid …; comm may hold spaces, so cut at the last ')'.
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) >= 2 && fields[0] == "Z" && fields[1] == strconv.Itoa(pid) {
			out = append(out, p)
		}
	}
	return out
}

// loader sends a GET every interval and records each outcome.
type loader struct {
	mu       sync.Mutex
	values   []string // distinct values in the order they were first seen after a change
	last     string
	requests int
	failures []string
	stop     chan struct{}
	done     chan struct{}
}

func startLoad(url string, interval time.Duration) *loader {
	l := &loader{stop: make(chan struct{}), done: make(chan struct{})}
	client := &http.Client{Timeout: 5 * time.Second}
	go func() {
		defer close(l.done)
		for {
			select {
			case <-l.stop:
				return
			case <-time.After(interval):
			}
			resp, err := client.Get(url)
			var body []byte
			if err == nil {
				body, err = io.ReadAll(resp.Body)
				resp.Body.Close()
				if err == nil && resp.StatusCode != 200 {
					err = fmt.Errorf("status %s", resp.Status)
				}
			}
			l.mu.Lock()
			l.requests++
			if err != nil {
				l.failures = append(l.failures, err.Error())
			} else if v := string(body); v != l.last {
				l.values = append(l.values, v)
				l.last = v
			}
			l.mu.Unlock()
		}
	}()
	return l
}

func (l *loader) current() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.last
}

func (l *loader) finish() (requests int, failures []string, values []string) {
	close(l.stop)
	<-l.done
	return l.requests, l.failures, l.values
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitServing waits until url answers.
func waitServing(t *testing.T, url string) {
	t.Helper()
	eventually(t, 10*time.Second, url, func() bool {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
		}
		return err == nil
	})
}
