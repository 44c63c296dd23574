package supervise

import (
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// exited reports that a child ended.
type exited struct {
	pid    int
	status syscall.WaitStatus
}

// reaper is the only code that waits for children, so that a status is
// never collected twice. With all set (PID 1) it waits for any process and
// discards the statuses of orphans it does not know.
type reaper struct {
	all  bool
	mu   sync.Mutex // held while starting a child, so it is known before it can be reaped
	pids map[int]bool
	out  chan exited
	stop chan struct{}
	done chan struct{}
}

func newReaper(all bool) *reaper {
	r := &reaper{all: all, pids: map[int]bool{}, out: make(chan exited, 64), stop: make(chan struct{}), done: make(chan struct{})}
	sigchld := make(chan os.Signal, 1)
	signal.Notify(sigchld, syscall.SIGCHLD)
	go func() {
		defer close(r.done)
		defer signal.Stop(sigchld)
		// SIGCHLD may coalesce or be missed before Notify; the tick is the backstop.
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			r.reap()
			select {
			case <-sigchld:
			case <-tick.C:
			case <-r.stop:
				return
			}
		}
	}()
	return r
}

// start runs fn (which starts a process) and tracks the pid it returns.
func (r *reaper) start(fn func() (*os.Process, error)) (*os.Process, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	p, err := fn()
	if err == nil {
		r.pids[p.Pid] = true
	}
	return p, err
}

func (r *reaper) reap() {
	var got []exited
	r.mu.Lock()
	if r.all {
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if err == syscall.EINTR {
				continue
			}
			if err != nil || pid <= 0 {
				break
			}
			if r.pids[pid] {
				delete(r.pids, pid)
				got = append(got, exited{pid, ws})
			}
		}
	} else {
		for pid := range r.pids {
			var ws syscall.WaitStatus
			p, err := syscall.Wait4(pid, &ws, syscall.WNOHANG, nil)
			if p == pid || err == syscall.ECHILD {
				delete(r.pids, pid)
				got = append(got, exited{pid, ws})
			}
		}
	}
	r.mu.Unlock()
	for _, e := range got {
		r.out <- e
	}
}

func (r *reaper) close() {
	close(r.stop)
	<-r.done
}

// exitCode is the shell convention for a wait status: the exit code, or
// 128+N for death by signal N.
func exitCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}
