package demoapp

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// A connection accepted before the drain, whose request arrives during it,
// still gets its answer (plain Shutdown would close it unanswered), and
// nothing new is accepted.
func TestDrainAnswersAcceptedConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := &connTracker{}
	srv := &http.Server{
		Handler:   http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }),
		ConnState: conns.hook,
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	early, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer early.Close()
	for deadline := time.Now().Add(5 * time.Second); conns.idle(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the connection was never accepted")
		}
	}
	drained := make(chan error, 1)
	go func() { drained <- drain(context.Background(), srv, ln, conns, served) }()
	time.Sleep(50 * time.Millisecond) // the drain has begun
	select {
	case err := <-drained:
		t.Fatalf("drain returned %v while a connection was owed an answer", err)
	default:
	}

	io.WriteString(early, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	early.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(early), nil)
	if err != nil {
		t.Fatalf("accepted connection got no answer: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("answer: %d, want 200", resp.StatusCode)
	}
	select {
	case err := <-drained:
		if err != nil {
			t.Errorf("drain = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("drain did not return once every connection was answered")
	}
	if c, err := net.DialTimeout("tcp", ln.Addr().String(), time.Second); err == nil {
		c.Close()
		t.Error("still accepting after the drain")
	}
}
