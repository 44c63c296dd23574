package supervise

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"
)

// Supervisor runs one command and keeps it on the newest environment
// version. A Supervisor runs once.
type Supervisor struct {
	o       Options
	reapAll bool // wait for any child (set as PID 1, or by tests as a subreaper)

	r       *reaper
	lnFD    int    // a close-on-exec duplicate of the listener, or -1
	cur     *child // the serving child; nil when it exited while a handoff was pending
	curExit int    // cur's status when it exited during a handoff
	version int64  // the serving child's version
	failed  int64  // the newest version whose switch failed; not tried again

	next    *child // handoff: started, not yet ready
	readyCh chan readyResult
	unready context.CancelFunc

	restart *pending // plain restart: cur was told to stop; start this when it exits
	stopAt  time.Time

	draining map[int]*drain
	stopping bool   // a terminating signal arrived: no more switches
	lastErr  string // the last poll error printed, to print each only once
}

type child struct {
	proc    *os.Process
	pid     int // proc.Pid, which Release clears
	version int64
	started time.Time
}

type pending struct {
	version int64
	pairs   []Pair
}

type readyResult struct {
	pid int
	err error
}

// drain is a child that was told to stop.
type drain struct {
	c        *child
	deadline time.Time
	killed   bool
	onExit   func(killed bool)
}

// New returns a Supervisor for o. It returns an error when o is
// inconsistent (no command, a listener without a shim, a reload signal
// without an env file or together with a listener).
func New(o Options) (*Supervisor, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	return &Supervisor{o: o, version: o.Version, readyCh: make(chan readyResult, 4), draining: map[int]*drain{}}, nil
}

// Run starts the command and supervises it until it exits on its own or
// after a forwarded terminating signal (SIGINT, SIGTERM, SIGQUIT), and
// returns its exit status (128+N after signal N). Before returning, every
// other child it started has exited (SIGTERM, then SIGKILL after
// DrainTimeout). Cancelling ctx acts as SIGTERM. The error wraps ErrStart
// when the first child cannot be started, and reports an env file that
// cannot be written.
func (s *Supervisor) Run(ctx context.Context) (int, error) {
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, forwardedSignals...)
	defer signal.Stop(sigs)
	s.r = newReaper(s.reapAll || os.Getpid() == 1)
	defer s.r.close()
	s.lnFD = -1
	if s.o.Listener != nil {
		fd, err := dupListener(s.o.Listener)
		if err != nil {
			return 0, err
		}
		s.lnFD = fd
		defer syscall.Close(fd)
	}
	if s.o.EnvFile != "" {
		if err := WriteEnvFile(s.o.EnvFile, s.o.Values); err != nil {
			return 0, err
		}
	}
	c, err := s.start(s.o.Version, s.o.Values)
	if err != nil {
		return 0, err
	}
	s.cur = c

	var poll <-chan time.Time
	if s.o.Source != nil {
		t := time.NewTicker(s.o.Poll)
		defer t.Stop()
		poll = t.C
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	done := ctx.Done()
	for {
		var code int
		var finished bool
		select {
		case sig := <-sigs:
			s.forward(sig)
		case <-done:
			done = nil
			s.forward(syscall.SIGTERM)
		case e := <-s.r.out:
			code, finished = s.exited(e)
		case res := <-s.readyCh:
			code, finished = s.readied(res)
		case <-poll:
			s.poll(ctx)
		case <-tick.C:
			s.enforceDeadlines()
		}
		if finished {
			s.stopAll(sigs)
			return code, nil
		}
	}
}

func (s *Supervisor) logf(format string, args ...any) {
	fmt.Fprintf(s.o.Log, "slickenv: run: "+format+"\n", args...)
}

// start starts a child with version's values, through the shim when there
// is a listener.
func (s *Supervisor) start(version int64, pairs []Pair) (*child, error) {
	env := Environ(s.o.Env, pairs, s.o.PreserveEnv)
	files := []uintptr{s.o.Stdin.Fd(), s.o.Stdout.Fd(), s.o.Stderr.Fd()}
	path, argv := s.o.Path, s.o.Args
	if s.lnFD >= 0 {
		files = append(files, uintptr(s.lnFD))
		env = append(env, "LISTEN_FDS=1") // the shim adds LISTEN_PID
		argv = append(append(slices.Clone(s.o.Shim), path), argv...)
		path = s.o.Shim[0]
	}
	// syscall.StartProcess takes raw descriptors: os.StartProcess would call
	// File.Fd, which switches the socket, shared with the running children,
	// to blocking mode and wedges their accept loops.
	p, err := s.r.start(func() (*os.Process, error) {
		pid, _, err := syscall.StartProcess(path, argv, &syscall.ProcAttr{Env: env, Files: files})
		if err != nil {
			return nil, err
		}
		return os.FindProcess(pid)
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrStart, s.o.Args[0], err)
	}
	return &child{proc: p, pid: p.Pid, version: version, started: time.Now()}, nil
}

// forward passes sig to the serving child. A terminating signal also ends
// watching: it goes to a child being started too, and a pending restart is
// abandoned.
func (s *Supervisor) forward(sig os.Signal) {
	if isTerminating(sig) {
		s.stopping = true
		s.restart = nil
		if s.next != nil {
			s.unready()
			_ = s.next.proc.Signal(sig)
			s.draining[s.next.pid] = &drain{c: s.next, deadline: time.Now().Add(s.o.DrainTimeout)}
			s.next = nil
		}
	}
	if s.cur != nil {
		_ = s.cur.proc.Signal(sig)
	}
}

// exited handles a child's exit and reports whether Run is done, with
// which status.
func (s *Supervisor) exited(e exited) (int, bool) {
	code := exitCode(e.status)
	switch {
	case s.cur != nil && e.pid == s.cur.pid:
		old := s.cur
		s.cur = nil
		old.proc.Release()
		if s.restart != nil && !s.stopping {
			p := s.restart
			s.restart = nil
			c, err := s.start(p.version, p.pairs)
			if err != nil {
				s.logf("v%d → v%d: %v", old.version, p.version, err)
				return 126, true
			}
			s.cur, s.version = c, p.version
			s.logf("v%d → v%d: stopped pid %d, started pid %d (restart)", old.version, p.version, old.pid, c.pid)
			return 0, false
		}
		if s.next != nil && !s.stopping {
			s.curExit = code
			s.logf("pid %d (v%d) exited with status %d during the switch to v%d; waiting for pid %d", old.pid, old.version, code, s.next.version, s.next.pid)
			return 0, false
		}
		return code, true
	case s.next != nil && e.pid == s.next.pid:
		n := s.next
		s.next = nil
		s.unready()
		n.proc.Release()
		s.failed = n.version
		if s.cur == nil {
			s.logf("v%d → v%d: new pid %d exited with status %d before it was ready, and the old child is gone", s.version, n.version, n.pid, code)
			return s.curExit, true
		}
		s.logf("v%d → v%d: new pid %d exited with status %d before it was ready; pid %d keeps serving v%d", s.version, n.version, n.pid, code, s.cur.pid, s.version)
	default:
		if d, ok := s.draining[e.pid]; ok {
			delete(s.draining, e.pid)
			d.c.proc.Release()
			if d.onExit != nil {
				d.onExit(d.killed)
			}
		}
	}
	return 0, false
}

// readied handles the outcome of a new child's readiness wait.
func (s *Supervisor) readied(res readyResult) (int, bool) {
	n := s.next
	if n == nil || res.pid != n.pid {
		return 0, false // stale
	}
	s.next = nil
	s.unready()
	if res.err != nil {
		s.failed = n.version
		_ = n.proc.Signal(syscall.SIGTERM)
		s.draining[n.pid] = &drain{c: n, deadline: time.Now().Add(s.o.DrainTimeout)}
		if s.cur == nil {
			s.logf("v%d → v%d: new pid %d not ready: %v; stopping it, and the old child is gone", s.version, n.version, n.pid, res.err)
			return s.curExit, true
		}
		s.logf("v%d → v%d: new pid %d not ready: %v; stopping it, pid %d keeps serving v%d", s.version, n.version, n.pid, res.err, s.cur.pid, s.version)
		return 0, false
	}
	readyIn := time.Since(n.started).Round(time.Millisecond)
	from := s.version
	s.version = n.version
	old := s.cur
	s.cur = n
	if old == nil {
		s.logf("v%d → v%d: started pid %d, ready in %v (the old child had exited)", from, n.version, n.pid, readyIn)
		return 0, false
	}
	_ = old.proc.Signal(syscall.SIGTERM)
	s.draining[old.pid] = &drain{c: old, deadline: time.Now().Add(s.o.DrainTimeout), onExit: func(killed bool) {
		how := "stopped"
		if killed {
			how = "killed (drain timeout)"
		}
		s.logf("v%d → v%d: started pid %d, ready in %v, %s pid %d", from, n.version, n.pid, readyIn, how, old.pid)
	}}
	return 0, false
}

// poll looks for a newer version and starts switching to it.
func (s *Supervisor) poll(ctx context.Context) {
	if s.stopping || s.next != nil || s.restart != nil || s.cur == nil {
		return
	}
	qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	head, err := s.o.Source.Head(qctx)
	if err != nil {
		s.pollError("check for a new version: %v", err)
		return
	}
	if head <= s.version || head <= s.failed {
		return
	}
	pairs, err := s.o.Source.Values(qctx, head)
	if err != nil {
		s.pollError("read v%d: %v", head, err)
		return
	}
	s.lastErr = ""
	switch {
	case s.o.EnvFile != "":
		s.reload(head, pairs)
	case s.lnFD >= 0:
		s.handoff(head, pairs)
	default:
		s.restart = &pending{version: head, pairs: pairs}
		s.stopAt = time.Now().Add(s.o.DrainTimeout)
		_ = s.cur.proc.Signal(syscall.SIGTERM)
	}
}

func (s *Supervisor) pollError(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if msg != s.lastErr {
		s.logf("%s (will retry)", msg)
		s.lastErr = msg
	}
}

func (s *Supervisor) reload(version int64, pairs []Pair) {
	if err := WriteEnvFile(s.o.EnvFile, pairs); err != nil {
		s.failed = version
		s.logf("v%d → v%d: %v; pid %d keeps v%d", s.version, version, err, s.cur.pid, s.version)
		return
	}
	if err := s.cur.proc.Signal(s.o.ReloadSignal); err != nil {
		s.logf("v%d → v%d: signal pid %d: %v", s.version, version, s.cur.pid, err)
	}
	s.logf("v%d → v%d: rewrote %s, sent %s to pid %d", s.version, version, s.o.EnvFile, signalName(s.o.ReloadSignal), s.cur.pid)
	s.version = version
	s.cur.version = version
}

func (s *Supervisor) handoff(version int64, pairs []Pair) {
	c, err := s.start(version, pairs)
	if err != nil {
		s.failed = version
		s.logf("v%d → v%d: %v; pid %d keeps serving v%d", s.version, version, err, s.cur.pid, s.version)
		return
	}
	s.next = c
	ctx, cancel := context.WithTimeout(context.Background(), s.o.ReadyTimeout)
	s.unready = cancel
	addr, pid, url := s.o.Listener.Addr(), c.pid, s.o.ReadyURL
	go func() {
		err := waitReady(ctx, addr, pid, url)
		if ctx.Err() == context.DeadlineExceeded {
			err = fmt.Errorf("not ready within %v: %w", s.o.ReadyTimeout, err)
		}
		s.readyCh <- readyResult{pid: pid, err: err}
	}()
}

// enforceDeadlines kills children that outlived their drain timeout.
func (s *Supervisor) enforceDeadlines() {
	now := time.Now()
	for _, d := range s.draining {
		if !d.killed && now.After(d.deadline) {
			d.killed = true
			_ = d.c.proc.Kill()
		}
	}
	if s.restart != nil && s.cur != nil && now.After(s.stopAt) {
		s.stopAt = now.Add(time.Hour)
		_ = s.cur.proc.Kill()
	}
}

// stopAll makes every remaining child exit (SIGTERM, then SIGKILL after the
// drain timeout) and waits for them, still forwarding signals.
func (s *Supervisor) stopAll(sigs <-chan os.Signal) {
	if s.next != nil {
		s.unready()
		_ = s.next.proc.Signal(syscall.SIGTERM)
		s.draining[s.next.pid] = &drain{c: s.next, deadline: time.Now().Add(s.o.DrainTimeout)}
		s.next = nil
	}
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for len(s.draining) > 0 {
		select {
		case sig := <-sigs:
			for _, d := range s.draining {
				_ = d.c.proc.Signal(sig)
			}
		case e := <-s.r.out:
			s.exited(e)
		case <-tick.C:
			s.enforceDeadlines()
		}
	}
}
