package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"
)

// project is a throwaway slickenv project whose DATABASE_URL is rotated.
type project struct {
	o    options
	dir  string
	addr string
	env  []string // HOME and XDG dirs of the work directory: the user's are never touched
}

func newProject(o options, work, addr string) (*project, error) {
	p := &project{o: o, dir: filepath.Join(work, "project"), addr: addr}
	home := filepath.Join(work, "home")
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SLICKENV_") && !strings.HasPrefix(kv, "DATABASE_URL=") {
			p.env = append(p.env, kv)
		}
	}
	p.env = append(p.env, "HOME="+home, "XDG_CONFIG_HOME="+home+"/.config", "XDG_DATA_HOME="+home+"/.local/share", "NO_COLOR=1")
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return nil, err
	}
	if _, err := p.slickenv(nil, "init", "--project", "rul"); err != nil {
		return nil, err
	}
	config := fmt.Sprintf(`project: rul
default_env: production
secrets:
  DATABASE_URL:
    provider: postgres
    with: { admin_url: "${PG_ADMIN_URL}", roles: [app_blue, app_green], group: app }
    verify:
      window: %s
      checks:
        - http: { url: "http://%s/healthz", every: 500ms, min_success: 1.0 }
      drain: { timeout: 30s }
`, o.window, addr)
	if err := os.WriteFile(filepath.Join(p.dir, ".slickenv.yaml"), []byte(config), 0o644); err != nil {
		return nil, err
	}
	password := randomHex()
	dbURL, err := appURL(o.adminURL, "app_blue", password)
	if err != nil {
		return nil, err
	}
	if _, err := p.slickenv(strings.NewReader(o.adminURL), "set", "PG_ADMIN_URL", "-"); err != nil {
		return nil, err
	}
	if _, err := p.slickenv(strings.NewReader(dbURL), "set", "DATABASE_URL", "-"); err != nil {
		return nil, err
	}
	if _, err := p.slickenv(nil, "provider", "setup", "postgres", "DATABASE_URL"); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := prepareDatabase(ctx, o.adminURL, password); err != nil {
		return nil, err
	}
	return p, nil
}

func randomHex() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// slickenv runs one slickenv command in the project and returns its stdout.
func (p *project) slickenv(stdin io.Reader, args ...string) ([]byte, error) {
	cmd := exec.Command(p.o.slickenv, args...)
	cmd.Dir, cmd.Env, cmd.Stdin = p.dir, p.env, stdin
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("slickenv %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// mark is one step of one rotation, at a time since the load began.
type mark struct {
	rotation int
	step     string // created, distributed, switched, verified, revoked
	at       time.Duration
}

// rotationRun is one `slickenv rotate`.
type rotationRun struct {
	start, end time.Duration
	outcome    string // done, rolled_back, … or the error
}

// modeRun is everything measured in one mode.
type modeRun struct {
	mode      string
	results   []result
	rotations []rotationRun
	marks     []mark
	warmup    time.Duration
}

var switchLine = regexp.MustCompile(`run: v\d+ → v\d+: (started pid|stopped pid)`)

func (p *project) runMode(mode string) (modeRun, error) {
	r := modeRun{mode: mode, warmup: time.Second}
	args := []string{"run", "--watch", "--poll", "200ms", "--drain-timeout", "15s"}
	if mode == "handoff" {
		args = append(args, "--listen", p.addr, "--ready-url", "/healthz", "--ready-timeout", "15s")
	}
	args = append(args, "--", p.o.demoapp, "--listen", p.addr)
	sup := exec.Command(p.o.slickenv, args...)
	sup.Dir, sup.Env = p.dir, p.env
	stderr, err := sup.StderrPipe()
	if err != nil {
		return r, err
	}
	logFile, err := os.Create(filepath.Join(p.dir, mode+".log"))
	if err != nil {
		return r, err
	}
	defer logFile.Close()
	sup.Stdout = logFile
	if err := sup.Start(); err != nil {
		return r, err
	}
	defer sup.Process.Kill() // only if the graceful stop below did not happen

	var (
		mu       sync.Mutex
		loadFrom time.Time // zero until the load starts
		marks    []mark
		rotation int
	)
	addMark := func(step string, at time.Time) {
		mu.Lock()
		defer mu.Unlock()
		if !loadFrom.IsZero() && rotation > 0 {
			marks = append(marks, mark{rotation: rotation, step: step, at: at.Sub(loadFrom)})
		}
	}
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(logFile, time.Now().Format("15:04:05.000"), line)
			if switchLine.MatchString(line) {
				addMark("switched", time.Now())
			}
		}
	}()

	if err := waitHealthy("http://"+p.addr+"/healthz", 30*time.Second); err != nil {
		return r, err
	}
	stop := make(chan struct{})
	type loadResult struct {
		start   time.Time
		results []result
	}
	loaded := make(chan loadResult, 1)
	l := load{base: "http://" + p.addr, rate: p.o.rate, readFraction: p.o.readFraction, timeout: p.o.timeout,
		maxDuration: 4 * time.Minute, existingOrder: seedOrders}
	started := make(chan time.Time, 1)
	go func() {
		start, results := l.run(stop, started)
		loaded <- loadResult{start, results}
	}()
	mu.Lock()
	loadFrom = <-started
	mu.Unlock()
	since := func() time.Duration { return time.Since(loadFrom) }

	time.Sleep(p.o.before)
	for i := 1; i <= p.o.rotations; i++ {
		mu.Lock()
		rotation = i
		mu.Unlock()
		rr := rotationRun{start: since()}
		rr.outcome = p.rotate(addMark)
		rr.end = since()
		logf("  rotation %d: %s in %.1fs", i, rr.outcome, (rr.end - rr.start).Seconds())
		r.rotations = append(r.rotations, rr)
		if i < p.o.rotations {
			time.Sleep(500 * time.Millisecond)
		}
	}
	time.Sleep(p.o.after)
	close(stop)
	lr := <-loaded
	r.results = lr.results
	mu.Lock()
	r.marks = marks
	mu.Unlock()

	sup.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { <-logDone; exited <- sup.Wait() }()
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		return r, fmt.Errorf("slickenv run did not stop within 30s of SIGTERM")
	}
	return r, nil
}

// rotate runs one rotation of DATABASE_URL and marks its steps as their
// events arrive.
func (p *project) rotate(addMark func(string, time.Time)) string {
	cmd := exec.Command(p.o.slickenv, "rotate", "DATABASE_URL", "-e", "production", "--yes", "--json")
	cmd.Dir, cmd.Env = p.dir, p.env
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err.Error()
	}
	if err := cmd.Start(); err != nil {
		return err.Error()
	}
	outcome := ""
	steps := map[int]string{2: "created", 3: "distributed", 4: "verified", 5: "revoked"}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		var e struct {
			Event, Status, Outcome string
			Step                   int
		}
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue
		}
		switch {
		case e.Event == "step" && e.Status == "ok" && steps[e.Step] != "":
			addMark(steps[e.Step], time.Now())
		case e.Event == "done":
			outcome = e.Outcome
		}
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Sprintf("%s (%v: %s)", outcome, err, strings.TrimSpace(stderr.String()))
	}
	if outcome == "" {
		outcome = "done"
	}
	return outcome
}

func waitHealthy(url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	client := &http.Client{Timeout: time.Second}
	for {
		resp, err := client.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not healthy within %s: %v", url, timeout, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
