package supervise

import (
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"time"
)

// Defaults for the zero values of Options' durations.
const (
	DefaultPoll         = time.Second
	DefaultReadyTimeout = 30 * time.Second
	DefaultDrainTimeout = 30 * time.Second
)

// ErrStart wraps the error of a child that could not be started.
var ErrStart = errors.New("cannot start the command")

// Options configures a Supervisor. Path, Args and Values describe the first
// child; Source turns on watching.
type Options struct {
	// Path is the executable (already resolved); Args its argv, Args[0]
	// first.
	Path string
	Args []string
	// Env is the base environment; Values are added to it as Environ says.
	Env         []string
	PreserveEnv bool
	// Version is the version Values belong to.
	Version int64
	Values  []Pair

	// Source, when set, is polled every Poll (DefaultPoll when zero) and
	// each newer version is switched to.
	Source Source
	Poll   time.Duration

	// Listener, when set, is handed to every child as file descriptor 3
	// and switches are handoffs. Shim is the argv prefix of a program that
	// runs ExecWithListenPID with the rest of its arguments (the path, then
	// the argv); it is required with Listener.
	Listener *net.TCPListener
	Shim     []string
	// ReadyURL is a path ("/healthz") or URL whose 2xx answer, from the new
	// child, makes it ready. Without it the first connection the new child
	// accepts does.
	ReadyURL     string
	ReadyTimeout time.Duration
	// DrainTimeout bounds how long a stopped child may take to exit before
	// SIGKILL.
	DrainTimeout time.Duration

	// ReloadSignal and EnvFile, set together, make switches reloads: the
	// file is rewritten (and also written before the first child starts)
	// and the child receives the signal.
	ReloadSignal syscall.Signal
	EnvFile      string

	// Stdin, Stdout and Stderr are the children's (default: the process's).
	Stdin, Stdout, Stderr *os.File
	// Log receives the supervisor's own messages (default: discarded).
	Log io.Writer
}

func (o *Options) defaults() error {
	if o.Path == "" || len(o.Args) == 0 {
		return errors.New("supervise: no command")
	}
	if o.Listener != nil && len(o.Shim) == 0 {
		return errors.New("supervise: a listener needs a shim")
	}
	if (o.ReloadSignal != 0) != (o.EnvFile != "") {
		return errors.New("supervise: a reload signal and an env file go together")
	}
	if o.Listener != nil && o.ReloadSignal != 0 {
		return errors.New("supervise: choose a listener handoff or a reload signal, not both")
	}
	if o.Poll <= 0 {
		o.Poll = DefaultPoll
	}
	if o.ReadyTimeout <= 0 {
		o.ReadyTimeout = DefaultReadyTimeout
	}
	if o.DrainTimeout <= 0 {
		o.DrainTimeout = DefaultDrainTimeout
	}
	if o.Stdin == nil {
		o.Stdin = os.Stdin
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	return nil
}
