package demoapp

import (
	"fmt"
	"net"
	"os"
	"strconv"
)

// listenFDsStart is the first file descriptor systemd passes (SD_LISTEN_FDS_START).
const listenFDsStart = 3

// listen returns the socket passed by systemd socket activation when there
// is one for this process, and otherwise a new TCP listener on addr.
func listen(addr string) (ln net.Listener, activated bool, err error) {
	ln, err = activatedListener(os.Getenv, os.Getpid(), listenFDsStart)
	if err != nil || ln != nil {
		if ln != nil {
			// As sd_listen_fds(1) does: children must not think the socket is theirs.
			os.Unsetenv("LISTEN_PID")
			os.Unsetenv("LISTEN_FDS")
			os.Unsetenv("LISTEN_FDNAMES")
		}
		return ln, ln != nil, err
	}
	ln, err = net.Listen("tcp", addr)
	return ln, false, err
}

// activatedListener implements the receiving side of systemd's
// socket-activation protocol for exactly one socket: when LISTEN_PID equals
// pid and LISTEN_FDS is 1, it returns a listener on file descriptor fd. It
// returns nil, nil when the variables are not meant for this process, and an
// error when they are but do not describe one listening socket.
func activatedListener(getenv func(string) string, pid int, fd uintptr) (net.Listener, error) {
	if getenv("LISTEN_PID") != strconv.Itoa(pid) {
		return nil, nil
	}
	switch n := getenv("LISTEN_FDS"); n {
	case "0", "":
		return nil, nil
	case "1":
	default:
		return nil, fmt.Errorf("socket activation: LISTEN_FDS=%s, but demoapp serves exactly one socket", n)
	}
	f := os.NewFile(fd, "LISTEN_FD_"+strconv.Itoa(int(fd)))
	if f == nil {
		return nil, fmt.Errorf("socket activation: invalid file descriptor %d", fd)
	}
	defer f.Close() // FileListener holds its own duplicate
	ln, err := net.FileListener(f)
	if err != nil {
		return nil, fmt.Errorf("socket activation: file descriptor %d: %w", fd, err)
	}
	return ln, nil
}
