package demoapp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// shutdownTimeout bounds how long in-flight requests may take after SIGTERM.
const shutdownTimeout = 10 * time.Second

// Options configures Run.
type Options struct {
	// Listen is the TCP address to serve on, e.g. "127.0.0.1:8080". It is
	// not used when the process was socket-activated.
	Listen string
	// EnvFile holds WEBHOOK_SECRET and WEBHOOK_SECRET_PREVIOUS. When empty,
	// they are read from the process environment (and SIGHUP re-reads
	// nothing new).
	EnvFile string
	// PidFile, when set, receives the process id once the server accepts
	// connections, so that `kill -HUP $(cat PidFile)` works; it is removed
	// on exit.
	PidFile string
	// Stdout receives the log lines; Stderr the errors. nil discards.
	Stdout, Stderr io.Writer
}

// Run serves webhooks until ctx is done or the process receives SIGTERM or
// SIGINT, then shuts down gracefully: in-flight requests complete. SIGHUP
// reloads the keys. Run returns nil after a graceful shutdown, and an error
// when it cannot start (no WEBHOOK_SECRET, address in use, unwritable pid
// file) or the server fails.
//
// When neither o.EnvFile nor WEBHOOK_SECRET is set but DATABASE_URL is, Run
// serves the orders API instead (see RunOrders).
func Run(ctx context.Context, o Options) error {
	if databaseURL := os.Getenv(DatabaseURLVar); databaseURL != "" && o.EnvFile == "" && os.Getenv(SecretVar) == "" {
		return RunOrders(ctx, databaseURL, o)
	}
	logOut, logErr := orDiscard(o.Stdout), orDiscard(o.Stderr)
	infof := log.New(logOut, "demoapp: ", 0).Printf
	errorf := log.New(logErr, "demoapp: error: ", 0).Printf

	recv, err := NewReceiver(o.EnvFile)
	if err != nil {
		return fmt.Errorf("load keys: %w", err)
	}
	// Ask for the signals before anyone can learn the pid: an early SIGHUP
	// must reload, not kill the process.
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	ln, activated, err := listen(o.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := newServer(recv.Handler(), logErr)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	if o.PidFile != "" {
		if err := writePidFile(o.PidFile); err != nil {
			srv.Close()
			return err
		}
		defer removePidFile(o.PidFile)
	}
	how := ""
	if activated {
		how = "socket-activated, "
	}
	h := recv.Health()
	infof("listening on http://%s (%spid %d, %d %s loaded)", ln.Addr(), how, os.Getpid(), h.Keys, keysWord(h.Keys))

	for {
		select {
		case <-hup:
			n, err := recv.Reload()
			if err != nil {
				errorf("reload failed, keeping the keys already loaded: %v", err)
				continue
			}
			infof("reloaded: %d %s (generation %d)", n, keysWord(n), recv.Health().Generation)
		case err := <-served:
			return fmt.Errorf("serve: %w", err)
		case <-ctx.Done():
			infof("shutting down")
			sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			defer cancel()
			if err := srv.Shutdown(sctx); err != nil {
				return fmt.Errorf("shutdown: %w", err)
			}
			if err := <-served; !errors.Is(err, http.ErrServerClosed) {
				return fmt.Errorf("serve: %w", err)
			}
			return nil
		}
	}
}

func keysWord(n int) string {
	if n == 1 {
		return "key"
	}
	return "keys"
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// writePidFile writes the pid atomically, so a reader never sees a partial
// number.
// newServer returns the HTTP server both modes use: bounded header, read
// and idle times, errors logged with the app's prefix.
func newServer(h http.Handler, logErr io.Writer) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          log.New(logErr, "demoapp: http: ", 0),
	}
}

func writePidFile(path string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".pid-*")
	if err != nil {
		return fmt.Errorf("write pid file: %w", err)
	}
	_, err = tmp.WriteString(strconv.Itoa(os.Getpid()) + "\n")
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write pid file: %w", err)
	}
	return nil
}

// removePidFile removes path if it still names this process (a successor
// may have replaced it).
func removePidFile(path string) {
	data, err := os.ReadFile(path)
	if err == nil && string(data) == strconv.Itoa(os.Getpid())+"\n" {
		os.Remove(path)
	}
}
