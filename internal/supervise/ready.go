package supervise

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"time"
)

// readyProbeInterval is the pause between readiness probes.
const readyProbeInterval = 20 * time.Millisecond

// waitReady returns nil once the process pid has accepted a probe
// connection to addr (the shared socket) and, with readyURL, answered a GET
// of it on that connection with a 2xx status. Connections that another
// process (the old child) accepts do not count: on Linux the accepted
// socket's owner is looked up in /proc. Elsewhere any accepted connection
// counts, which cannot tell the children apart (a documented caveat). It
// returns ctx's error when ctx ends first, and the last probe's failure.
func waitReady(ctx context.Context, addr net.Addr, pid int, readyURL string) error {
	target := dialAddr(addr)
	// Report what the new child itself said last, if it said anything.
	var last, lastFromChild error = errors.New("no probe answered yet"), nil
	for {
		ok, fromChild, err := probe(ctx, target, pid, readyURL)
		if ok {
			return nil
		}
		if err != nil && ctx.Err() == nil { // not the deadline's own error
			last = err
			if fromChild {
				lastFromChild = err
			}
		}
		select {
		case <-ctx.Done():
			if lastFromChild != nil {
				last = lastFromChild
			}
			return fmt.Errorf("%w (last probe: %v)", ctx.Err(), last)
		case <-time.After(readyProbeInterval):
		}
	}
}

// dialAddr turns a listening address into one to connect to: an
// unspecified IP becomes the loopback address of its family.
func dialAddr(addr net.Addr) string {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return addr.String()
	}
	ip := ta.IP
	switch {
	case ip == nil || ip.Equal(net.IPv4zero):
		ip = net.IPv4(127, 0, 0, 1)
	case ip.Equal(net.IPv6unspecified):
		ip = net.IPv6loopback
	}
	return net.JoinHostPort(ip.String(), fmt.Sprint(ta.Port))
}

// probe makes one connection and reports whether pid accepted it and
// answered readyURL (ok), whether pid accepted it at all (fromChild), and
// when not ok, why.
func probe(ctx context.Context, target string, pid int, readyURL string) (ok, fromChild bool, err error) {
	d := net.Dialer{Timeout: time.Second}
	conn, err := d.DialContext(ctx, "tcp", target)
	if err != nil {
		return false, false, err
	}
	defer conn.Close()
	tc := conn.(*net.TCPConn)
	mine, err := acceptedBy(ctx, tc, pid)
	if errors.Is(err, errNoOwnerInfo) {
		mine = true // cannot attribute: the first answer counts
	} else if !mine {
		return false, false, err
	}
	if readyURL == "" {
		return true, true, nil
	}
	ok, err = answers(conn, target, readyURL)
	return ok, true, err
}

// answers sends GET readyURL on conn and reports a 2xx answer.
func answers(conn net.Conn, target, readyURL string) (bool, error) {
	u, err := url.Parse(readyURL)
	if err != nil {
		return false, fmt.Errorf("ready url: %w", err)
	}
	if u.Host == "" {
		u.Scheme, u.Host = "http", target
	}
	req, err := http.NewRequest(http.MethodGet, u.String(), nil)
	if err != nil {
		return false, fmt.Errorf("ready url: %w", err)
	}
	_ = conn.SetDeadline(time.Now().Add(2 * time.Second))
	if err := req.Write(conn); err != nil {
		return false, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), req)
	if err != nil {
		return false, err
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return false, fmt.Errorf("GET %s: %s", u.RequestURI(), resp.Status)
	}
	return true, nil
}
