package demo

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/slickenv/slickenv/examples/demoapp"
)

// appStartTimeout bounds how long the demo app may take to answer /healthz.
const appStartTimeout = 15 * time.Second

// app is the running webhook receiver (`slickenv __demoapp`).
type app struct {
	cmd     *exec.Cmd
	baseURL string        // http://host:port
	exited  chan struct{} // closed when the process has exited
	waitErr error         // valid once exited is closed

	mu      sync.Mutex
	log     []string     // every line it printed
	forward func(string) // receives each line once set by follow
}

// freeLoopbackAddr returns a loopback address with a port that was free a
// moment ago. Another process could take it before the app binds it; start
// retries with a new port when that happens.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startApp starts the receiver on addr and waits until it answers /healthz
// and has written its pid file.
func startApp(ctx context.Context, p *project, addr string) (*app, demoapp.Health, error) {
	// Not CommandContext: the app is stopped by stop, gracefully, even when
	// ctx is cancelled.
	cmd := exec.Command(p.self, "__demoapp", "--listen", addr, "--env-file", "app.env", "--pid-file", "app.pid")
	cmd.Dir, cmd.Env = p.dir, p.env
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, demoapp.Health{}, err
	}
	cmd.Stderr = cmd.Stdout // one pipe: lines stay in order
	if err := cmd.Start(); err != nil {
		return nil, demoapp.Health{}, fmt.Errorf("start the demo app: %w", err)
	}
	a := &app{cmd: cmd, baseURL: "http://" + addr, exited: make(chan struct{})}
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		a.copyLog(out)
	}()
	go func() {
		<-copied // Wait closes the pipe: read it all first
		a.waitErr = cmd.Wait()
		close(a.exited)
	}()

	h, err := a.waitReady(ctx, p.path("app.pid"))
	if err != nil {
		a.stop()
		return nil, h, err
	}
	return a, h, nil
}

func (a *app) copyLog(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		a.mu.Lock()
		a.log = append(a.log, sc.Text())
		if a.forward != nil {
			a.forward(sc.Text())
		}
		a.mu.Unlock()
	}
	io.Copy(io.Discard, r)
}

// follow passes every line the app printed so far, and every later one, to fn.
func (a *app) follow(fn func(string)) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, line := range a.log {
		fn(line)
	}
	a.forward = fn
}

func (a *app) logText() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return strings.Join(a.log, "\n")
}

// errAddrInUse is returned by waitReady when the app could not bind its port.
var errAddrInUse = errors.New("address already in use")

func (a *app) waitReady(ctx context.Context, pidFile string) (demoapp.Health, error) {
	client := &http.Client{Timeout: time.Second}
	deadline := time.After(appStartTimeout)
	want := fmt.Sprint(a.cmd.Process.Pid)
	for {
		h, err := health(ctx, client, a.baseURL)
		if err == nil {
			// The answer must come from our process, not from whatever else
			// might listen on that port.
			if pid, _ := os.ReadFile(pidFile); strings.TrimSpace(string(pid)) == want {
				return h, nil
			}
		}
		select {
		case <-a.exited:
			if strings.Contains(a.logText(), "address already in use") {
				return h, errAddrInUse
			}
			return h, fmt.Errorf("the demo app exited (%v):\n%s", a.waitErr, a.logText())
		case <-deadline:
			return h, fmt.Errorf("the demo app did not answer %s/healthz within %s", a.baseURL, appStartTimeout)
		case <-ctx.Done():
			return h, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// stop asks the app to shut down (SIGTERM), as a service manager would, and
// kills it if it has not exited after a few seconds. It returns nil when the
// app exited cleanly.
func (a *app) stop() error {
	select {
	case <-a.exited:
		return a.waitErr
	default:
	}
	a.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-a.exited:
		return a.waitErr
	case <-time.After(5 * time.Second):
		a.cmd.Process.Kill()
		<-a.exited
		return errors.New("the demo app did not stop within 5s of SIGTERM and was killed")
	}
}
