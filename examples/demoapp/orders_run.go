package demoapp

import (
	"context"
	"fmt"
	"log"
	"os"
	"os/signal"
	"syscall"
)

// RunOrders serves the orders API (see Orders) on the database named by
// databaseURL until ctx is done or the process receives SIGTERM or SIGINT.
// Then it stops accepting, answers every connection already accepted (up
// to 10s), and
// closes its database sessions, so that a credential rotation sees the old
// role drained. Like Run, it serves on the socket-activated listener when
// there is one, and otherwise on o.Listen; o.EnvFile is not used.
func RunOrders(ctx context.Context, databaseURL string, o Options) error {
	logOut, logErr := orDiscard(o.Stdout), orDiscard(o.Stderr)
	infof := log.New(logOut, "demoapp: ", 0).Printf

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	// Connect before taking the socket: a supervisor's readiness check
	// should never reach a process that cannot log in.
	orders, err := OpenOrders(ctx, databaseURL)
	if err != nil {
		return err
	}
	defer orders.Close()

	ln, activated, err := listen(o.Listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	conns := &connTracker{}
	srv := newServer(orders.Handler(), logErr)
	srv.ConnState = conns.hook
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
	infof("serving orders on http://%s (%spid %d)", ln.Addr(), how, os.Getpid())

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	infof("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := drain(sctx, srv, ln, conns, served); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil // the deferred Close ends the database sessions
}
