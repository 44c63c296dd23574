//go:build linux

package supervise

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/slickenv/slickenv/internal/dotenv"
	"github.com/slickenv/slickenv/internal/secret"
)

// TestMain makes the test binary double as the programs the tests run: the
// exec shim, a test server, and a supervisor.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "__shim":
			err := ExecWithListenPID(os.Args[2], os.Args[3:])
			fmt.Fprintln(os.Stderr, err)
			os.Exit(127)
		case "__server":
			os.Exit(testServer())
		case "__supervise":
			os.Exit(testSupervise(os.Args[2]))
		}
	}
	os.Exit(m.Run())
}

// testServer serves HTTP on the activated socket (or $TEST_ADDR), answering
// "$VALUE" on / and /slow (after 100ms), and /healthz with 200 (503 when
// BEHAVIOUR=unhealthy). SIGTERM shuts it down gracefully (exit 0), SIGINT
// exits 4, SIGHUP re-reads VALUE from $ENV_FILE when set; every start and
// signal is logged to $SERVER_LOG. BEHAVIOUR=exit3 exits 3 at once, and
// BEHAVIOUR=hang never serves and ignores SIGTERM;
// BEHAVIOUR=orphans leaves orphaned processes behind first.
func testServer() int {
	logf := func(format string, args ...any) {
		if p := os.Getenv("SERVER_LOG"); p != "" {
			f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
			if err == nil {
				fmt.Fprintf(f, format+"\n", args...)
				f.Close()
			}
		}
	}
	// Ask for the signals before anyone can learn the pid.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1)
	pid := os.Getpid()
	logf("start %d %s", pid, os.Getenv("VALUE"))
	switch os.Getenv("BEHAVIOUR") {
	case "exit3":
		return 3
	case "orphans":
		// Leave three orphans that exit a little later, for the reaper.
		for i := 0; i < 3; i++ {
			exec.Command("sh", "-c", "(sleep 0.3) & exit 0").Run()
		}
		logf("orphaned %d", pid)
	case "hang":
		signal.Reset()
		signal.Ignore(syscall.SIGTERM)
		select {}
	}
	var mu sync.Mutex
	value := os.Getenv("VALUE")
	get := func() string { mu.Lock(); defer mu.Unlock(); return value }
	var ln net.Listener
	var err error
	if os.Getenv("LISTEN_PID") == strconv.Itoa(pid) && os.Getenv("LISTEN_FDS") == "1" {
		f := os.NewFile(3, "listen")
		ln, err = net.FileListener(f)
		f.Close()
	} else if addr := os.Getenv("TEST_ADDR"); addr != "" {
		ln, err = net.Listen("tcp", addr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		return 1
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, get()) })
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond)
		fmt.Fprint(w, get())
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if os.Getenv("BEHAVIOUR") == "unhealthy" {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	srv := &http.Server{Handler: mux}
	if ln != nil {
		go srv.Serve(ln)
	}
	for sig := range sigs {
		logf("signal %d %s", pid, signalName(sig.(syscall.Signal)))
		switch sig {
		case syscall.SIGTERM:
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			srv.Shutdown(ctx)
			cancel()
			return 0
		case syscall.SIGINT:
			return 4
		case syscall.SIGHUP:
			if p := os.Getenv("ENV_FILE"); p != "" {
				data, err := os.ReadFile(p)
				if err == nil {
					entries, err := dotenv.Parse(data, dotenv.ParseOptions{})
					if err == nil {
						for _, e := range entries {
							if e.Key == "VALUE" {
								mu.Lock()
								value = e.Value
								mu.Unlock()
							}
						}
					}
				}
			}
		}
	}
	return 0
}

// helperOptions configures the __supervise helper.
type helperOptions struct {
	Dir          string // holds head, v<N> (dotenv) and, once listening, addr
	Listen       bool
	ReadyURL     string
	ReadyTimeout time.Duration
	DrainTimeout time.Duration
	Reload       bool
	Watch        bool
	ReapOrphans  bool
}

// fileSource reads versions from a directory: "head" holds the newest
// version number, "v<N>" its variables.
type fileSource struct{ dir string }

func (f fileSource) Head(ctx context.Context) (int64, error) {
	b, err := os.ReadFile(filepath.Join(f.dir, "head"))
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
}

func (f fileSource) Values(ctx context.Context, version int64) ([]Pair, error) {
	b, err := os.ReadFile(filepath.Join(f.dir, "v"+strconv.FormatInt(version, 10)))
	if err != nil {
		return nil, err
	}
	entries, err := dotenv.Parse(b, dotenv.ParseOptions{})
	if err != nil {
		return nil, err
	}
	pairs := make([]Pair, len(entries))
	for i, e := range entries {
		pairs[i] = Pair{Name: e.Key, Value: secret.New(e.Value)}
	}
	return pairs, nil
}

func testSupervise(optsJSON string) int {
	var h helperOptions
	if err := json.Unmarshal([]byte(optsJSON), &h); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 99
	}
	src := fileSource{h.Dir}
	head, err := src.Head(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 99
	}
	values, err := src.Values(context.Background(), head)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 99
	}
	o := Options{
		Path: os.Args[0], Args: []string{os.Args[0], "__server"}, Env: os.Environ(),
		Version: head, Values: values, Poll: 50 * time.Millisecond,
		ReadyURL: h.ReadyURL, ReadyTimeout: h.ReadyTimeout, DrainTimeout: h.DrainTimeout,
		Log: os.Stderr,
	}
	if h.Watch {
		o.Source = src
	}
	if h.Reload {
		o.ReloadSignal, o.EnvFile = syscall.SIGHUP, os.Getenv("ENV_FILE")
	}
	if h.Listen {
		ln, err := Listen("127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 99
		}
		o.Listener, o.Shim = ln, []string{os.Args[0], "__shim"}
		if err := replaceFile(filepath.Join(h.Dir, "addr"), []byte(ln.Addr().String())); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 99
		}
	}
	s, err := New(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 99
	}
	if h.ReapOrphans {
		// Stand in for PID 1: orphans of our children become ours.
		if err := setSubreaper(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 99
		}
		s.reapAll = true
	}
	code, err := s.Run(context.Background())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		if errors.Is(err, ErrStart) {
			return 126
		}
		return 1
	}
	return code
}
