package deploy

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/slickenv/slickenv/internal/config"
)

// signals maps the canonical names of config.NormalizeSignal to signals.
func signals() map[string]syscall.Signal {
	return map[string]syscall.Signal{
		"HUP":  syscall.SIGHUP,
		"TERM": syscall.SIGTERM,
		"INT":  syscall.SIGINT,
		"USR1": syscall.SIGUSR1,
		"USR2": syscall.SIGUSR2,
		"QUIT": syscall.SIGQUIT,
	}
}

type signalTarget struct {
	pidfile string
	name    string // as given
}

// NewSignal returns a target that sends signal to the process whose pid is
// in pidfile, for apps that reload their configuration on a signal (HUP,
// usually). signal is one of the names config.NormalizeSignal accepts: HUP,
// TERM, INT, USR1, USR2 or QUIT, with or without SIG, in any case; Deploy
// rejects any other.
//
// Deploy reads the pidfile (surrounding whitespace ignored), which must hold
// one positive process id, and sends the signal once. A missing pidfile, a
// malformed one and a process that is not running are errors that say so.
// Deploy is idempotent as far as the app's reload is: a second Deploy sends
// the signal again.
func NewSignal(pidfile, signal string) Target {
	return &signalTarget{pidfile: pidfile, name: signal}
}

func (t *signalTarget) Describe() string {
	name, ok := config.NormalizeSignal(t.name)
	if !ok {
		name = t.name
	}
	return "signal " + name + " to " + t.pidfile
}

func (t *signalTarget) Deploy(ctx context.Context, req Request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	name, ok := config.NormalizeSignal(t.name)
	if !ok {
		return fmt.Errorf("unsupported signal %q", t.name)
	}
	sig := signals()[name]
	pid, err := readPidfile(t.pidfile)
	if err != nil {
		return err
	}
	switch err := syscall.Kill(pid, sig); {
	case errors.Is(err, syscall.ESRCH):
		return fmt.Errorf("process %d (from pidfile %s) is not running", pid, t.pidfile)
	case errors.Is(err, syscall.EPERM):
		return fmt.Errorf("not permitted to signal process %d (from pidfile %s)", pid, t.pidfile)
	case err != nil:
		return fmt.Errorf("send SIG%s to process %d: %w", name, pid, err)
	}
	return nil
}

// readPidfile returns the process id in path.
func readPidfile(path string) (int, error) {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return 0, fmt.Errorf("pidfile %s does not exist (is the process running?)", path)
	case err != nil:
		return 0, fmt.Errorf("read pidfile: %w", err)
	}
	text := strings.TrimSpace(string(data))
	pid, err := strconv.Atoi(text)
	if err != nil || pid <= 0 {
		if len(text) > 20 {
			text = text[:20] + "…"
		}
		return 0, fmt.Errorf("pidfile %s does not hold a process id (found %q)", path, text)
	}
	return pid, nil
}
