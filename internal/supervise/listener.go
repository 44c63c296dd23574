package supervise

import (
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// listenFD is where children find the socket (SD_LISTEN_FDS_START).
const listenFD = 3

// Listen opens the TCP socket a Supervisor hands to its children. The
// returned listener is never accepted on by the supervisor itself.
func Listen(addr string) (*net.TCPListener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	return ln.(*net.TCPListener), nil
}

// ExecWithListenPID is the body of the exec shim: it sets LISTEN_PID to the
// current process id, which is the pid the command will have, and replaces
// the process with path (argv[0] first in argv). It returns only on error.
//
// A Go parent cannot know a child's pid before the child runs, and the
// socket-activation protocol wants it in the child's environment, so
// children are started through this shim (see Options.Shim).
func ExecWithListenPID(path string, argv []string) error {
	env := setEnv(os.Environ(), "LISTEN_PID", strconv.Itoa(os.Getpid()))
	err := syscall.Exec(path, argv, env)
	return fmt.Errorf("exec %s: %w", argv[0], err)
}

// setEnv returns env with name set to value, replacing earlier entries.
func setEnv(env []string, name, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if k, _, _ := strings.Cut(kv, "="); k != name {
			out = append(out, kv)
		}
	}
	return append(out, name+"="+value)
}

// unsetEnv returns env without the named variables.
func unsetEnv(env []string, names ...string) []string {
	out := make([]string, 0, len(env))
outer:
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		for _, n := range names {
			if k == n {
				continue outer
			}
		}
		out = append(out, kv)
	}
	return out
}

// dupListener returns a close-on-exec duplicate of ln's descriptor, for
// handing to children without touching ln's blocking mode.
func dupListener(ln *net.TCPListener) (int, error) {
	rc, err := ln.SyscallConn()
	if err != nil {
		return -1, fmt.Errorf("listener: %w", err)
	}
	fd := -1
	var dupErr error
	err = rc.Control(func(raw uintptr) {
		r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, raw, syscall.F_DUPFD_CLOEXEC, 0)
		if errno != 0 {
			dupErr = errno
			return
		}
		fd = int(r)
	})
	if err == nil {
		err = dupErr
	}
	if err != nil {
		return -1, fmt.Errorf("listener: duplicate descriptor: %w", err)
	}
	return fd, nil
}
