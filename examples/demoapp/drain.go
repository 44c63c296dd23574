package demoapp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Why not just http.Server.Shutdown: a connection accepted a moment before
// Shutdown starts, whose request is read a moment after, is closed without
// an answer (net/http treats a request read during shutdown as one to drop),
// and its client sees EOF. During a socket handoff that moment is exactly
// when the new process is already accepting. So drain stops accepting first,
// lets every accepted connection get its answer, and only then shuts down.

// connTracker counts the connections that were accepted and have not yet
// finished a request: they are owed an answer.
type connTracker struct {
	mu    sync.Mutex
	state map[net.Conn]http.ConnState
	busy  int
}

// hook is an http.Server ConnState callback.
func (t *connTracker) hook(c net.Conn, s http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state == nil {
		t.state = make(map[net.Conn]http.ConnState)
	}
	owed := func(s http.ConnState) bool { return s == http.StateNew || s == http.StateActive }
	prev, known := t.state[c]
	if known && owed(prev) {
		t.busy--
	}
	if owed(s) {
		t.busy++
	}
	if s == http.StateClosed || s == http.StateHijacked {
		delete(t.state, c)
	} else {
		t.state[c] = s
	}
}

func (t *connTracker) idle() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.busy == 0
}

// drain stops srv gracefully: it stops accepting (the socket itself stays
// open in the other processes that hold it), turns keep-alives off so each
// connection closes after its current answer, waits until no accepted
// connection is owed one, then shuts down. served is Serve's result.
// ctx bounds the whole drain.
func drain(ctx context.Context, srv *http.Server, ln net.Listener, conns *connTracker, served <-chan error) error {
	srv.SetKeepAlivesEnabled(false)
	ln.Close()
	if err := <-served; err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !conns.idle() {
		select {
		case <-ctx.Done():
			return srv.Shutdown(ctx) // closes what is idle, reports the rest
		case <-tick.C:
		}
	}
	return srv.Shutdown(ctx)
}
