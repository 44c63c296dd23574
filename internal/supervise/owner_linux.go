package supervise

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"time"
)

// errNoOwnerInfo means the system cannot say which process accepted a
// connection.
var errNoOwnerInfo = errors.New("socket owners are not visible")

// acceptAttributionWait bounds how long a probe waits for someone to accept it.
const acceptAttributionWait = 250 * time.Millisecond

// acceptedBy waits until the server side of conn has been accepted and
// reports whether process pid holds it; when not, the error says why. It finds the accepted socket's
// inode in /proc/net/tcp{,6} (the server side is the entry whose local and
// remote addresses are conn's remote and local ones) and looks for it among
// /proc/<pid>/fd.
func acceptedBy(ctx context.Context, conn *net.TCPConn, pid int) (bool, error) {
	local, err := netip.ParseAddrPort(conn.LocalAddr().String())
	if err != nil {
		return false, err
	}
	remote, err := netip.ParseAddrPort(conn.RemoteAddr().String())
	if err != nil {
		return false, err
	}
	deadline := time.Now().Add(acceptAttributionWait)
	for {
		inode, err := serverInode(remote, local)
		if err != nil {
			return false, err
		}
		if inode != "" && inode != "0" {
			if !holdsSocket(pid, inode) {
				return false, errors.New("the probe was accepted by another process")
			}
			return true, nil
		}
		if time.Now().After(deadline) {
			return false, fmt.Errorf("the probe was not accepted within %v", acceptAttributionWait)
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// serverInode returns the inode of the socket whose local address is
// server and remote address is client ("0" while it waits in the backlog,
// "" when there is no such socket).
func serverInode(server, client netip.AddrPort) (string, error) {
	found := false
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			continue
		}
		found = true
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 {
				continue
			}
			l, err1 := parseProcAddr(fields[1])
			r, err2 := parseProcAddr(fields[2])
			if err1 != nil || err2 != nil {
				continue
			}
			if sameAddrPort(l, server) && sameAddrPort(r, client) {
				f.Close()
				return fields[9], nil
			}
		}
		f.Close()
	}
	if !found {
		return "", errNoOwnerInfo
	}
	return "", nil
}

func sameAddrPort(a, b netip.AddrPort) bool {
	return a.Port() == b.Port() && a.Addr().Unmap() == b.Addr().Unmap()
}

// parseProcAddr parses "0100007F:1F90": the address as 32-bit words in the
// host's byte order, then the port in hex.
func parseProcAddr(s string) (netip.AddrPort, error) {
	hexIP, hexPort, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	raw, err := hex.DecodeString(hexIP)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.AddrPort{}, fmt.Errorf("bad address %q", s)
	}
	ip := make([]byte, len(raw))
	for i := 0; i < len(raw); i += 4 {
		binary.NativeEndian.PutUint32(ip[i:], binary.BigEndian.Uint32(raw[i:]))
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("bad port %q", s)
	}
	addr, _ := netip.AddrFromSlice(ip)
	return netip.AddrPortFrom(addr, uint16(port)), nil
}

// holdsSocket reports whether process pid has socket inode open.
func holdsSocket(pid int, inode string) bool {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	want := "socket:[" + inode + "]"
	for _, e := range entries {
		if link, err := os.Readlink(dir + "/" + e.Name()); err == nil && link == want {
			return true
		}
	}
	return false
}
