package verify

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// testServer serves handler on 127.0.0.1 and counts requests and new
// connections.
type testServer struct {
	*httptest.Server
	requests atomic.Int64
	conns    atomic.Int64
}

func newTestServer(t *testing.T, handler func(n int64, w http.ResponseWriter, r *http.Request)) *testServer {
	t.Helper()
	s := &testServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handler(s.requests.Add(1), w, r)
	}))
	s.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func ok(int64, http.ResponseWriter, *http.Request) {}

// recorder collects the Progress a check reports.
type recorder struct {
	mu   sync.Mutex
	seen []Progress
}

func (r *recorder) add(p Progress) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, p)
}

func (r *recorder) last() Progress {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.seen) == 0 {
		return Progress{}
	}
	return r.seen[len(r.seen)-1]
}

func TestHTTPHolds(t *testing.T) {
	srv := newTestServer(t, ok)
	check := NewHTTP(srv.URL+"/healthz", 100*time.Millisecond, 1.0)
	if got, want := check.Describe(), "http "+srv.URL+"/healthz"; got != want {
		t.Errorf("Describe() = %q, want %q", got, want)
	}
	var rec recorder
	if err := check.Run(context.Background(), 300*time.Millisecond, rec.add); err != nil {
		t.Fatal(err)
	}
	last := rec.last()
	// Three beats (0, 100, 200ms); a slow machine may skip one, never add one.
	if last.Total < 1 || last.Total > 3 || last.Succeeded != last.Total || len(rec.seen) != last.Total {
		t.Fatalf("progress %+v after %d reports", last, len(rec.seen))
	}
	if last.Check != check.Describe() || last.Kind != KindHTTP {
		t.Errorf("progress names %q/%q", last.Check, last.Kind)
	}
	if got := srv.requests.Load(); got != int64(last.Total) {
		t.Errorf("server saw %d requests, progress says %d", got, last.Total)
	}
	if got := srv.conns.Load(); got != srv.requests.Load() {
		t.Errorf("%d connections for %d requests: keep-alive in use", got, srv.requests.Load())
	}
}

func TestHTTPZeroWindowIsOneRequest(t *testing.T) {
	srv := newTestServer(t, ok)
	var rec recorder
	if err := NewHTTP(srv.URL, time.Second, 1.0).Run(context.Background(), 0, rec.add); err != nil {
		t.Fatal(err)
	}
	if got := srv.requests.Load(); got != 1 {
		t.Fatalf("%d requests, want 1", got)
	}
	if last := rec.last(); last.Total != 1 || last.Succeeded != 1 {
		t.Fatalf("progress %+v", last)
	}
}

func TestHTTPFailsAtFirstFailure(t *testing.T) {
	srv := newTestServer(t, func(n int64, w http.ResponseWriter, _ *http.Request) {
		if n == 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	start := time.Now()
	var rec recorder
	err := NewHTTP(srv.URL+"/healthz", 50*time.Millisecond, 1.0).Run(context.Background(), time.Minute, rec.add)
	want := "http check " + srv.URL + "/healthz: 1 of 2 requests failed (50.0% < 100%): last failure: status 503 Service Unavailable"
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\n want %s", err, want)
	}
	if elapsed := time.Since(start); elapsed > 30*time.Second {
		t.Fatalf("returned after %v, not at the first failure", elapsed)
	}
	if last := rec.last(); last.Total != 2 || last.Succeeded != 1 {
		t.Fatalf("progress %+v", last)
	}
}

func TestHTTPMinSuccessTolerates(t *testing.T) {
	srv := newTestServer(t, func(n int64, w http.ResponseWriter, _ *http.Request) {
		if n == 2 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	var rec recorder
	// Four beats, at most two may fail; one does (if the machine is fast
	// enough to make two requests at all).
	if err := NewHTTP(srv.URL, 100*time.Millisecond, 0.5).Run(context.Background(), 400*time.Millisecond, rec.add); err != nil {
		t.Fatal(err)
	}
	if last := rec.last(); last.Total >= 2 && last.Succeeded != last.Total-1 {
		t.Fatalf("progress %+v", last)
	}
}

func TestHTTPMinSuccessStopsWhenUnreachable(t *testing.T) {
	srv := newTestServer(t, func(n int64, w http.ResponseWriter, _ *http.Request) {
		if n > 1 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	start := time.Now()
	// 100 beats, at most 10 may fail: the 11th failure ends the check long
	// before the window does.
	err := NewHTTP(srv.URL, 20*time.Millisecond, 0.9).Run(context.Background(), 2*time.Second, nil)
	if err == nil {
		t.Fatal("check held")
	}
	if elapsed := time.Since(start); elapsed < 2*time.Second {
		// It stopped early, so exactly at the 11th failure.
		if want := "11 of 12 requests failed (8.3% < 90%): last failure: status 500 Internal Server Error"; !strings.HasSuffix(err.Error(), want) {
			t.Fatalf("error = %v\n want ...%s", err, want)
		}
	} else if !strings.Contains(err.Error(), "< 90%): last failure: status 500 Internal Server Error") {
		t.Fatalf("error = %v", err)
	}
}

func TestHTTPFailureReasons(t *testing.T) {
	block := make(chan struct{})
	t.Cleanup(func() { close(block) })
	slow := newTestServer(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		select {
		case <-block:
		case <-r.Context().Done():
		}
	})
	redirect := newTestServer(t, func(_ int64, w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/login", http.StatusFound)
	})
	closed := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name, url, want string
	}{
		{"timeout", slow.URL, "last failure: no response within 1s"},
		{"redirect not followed", redirect.URL, "last failure: status 302 Found"},
		{"connection refused", closedURL, "last failure: dial tcp " + strings.TrimPrefix(closedURL, "http://") + ": connect: connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := NewHTTP(tt.url, 10*time.Millisecond, 1.0).Run(context.Background(), time.Minute, nil)
			if err == nil || !strings.HasSuffix(err.Error(), tt.want) {
				t.Fatalf("error = %v\n want ...%s", err, tt.want)
			}
		})
	}
}

func TestHTTPRedactsPassword(t *testing.T) {
	check := NewHTTP("http://user:hunter2@127.0.0.1:1/healthz", time.Second, 1)
	if got := check.Describe(); strings.Contains(got, "hunter2") {
		t.Fatalf("Describe() = %q", got)
	}
	err := check.Run(context.Background(), 0, nil)
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error = %v", err)
	}
}

func TestHTTPInterrupted(t *testing.T) {
	srv := newTestServer(t, ok)
	ctx, cancel := context.WithCancel(context.Background())
	var rec recorder
	done := make(chan error, 1)
	go func() {
		done <- NewHTTP(srv.URL, 20*time.Millisecond, 1.0).Run(ctx, time.Minute, func(p Progress) {
			rec.add(p)
			if p.Total == 2 {
				cancel()
			}
		})
	}()
	err := <-done
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if last := rec.last(); last.Total != 2 {
		t.Fatalf("progress %+v after cancel", last)
	}
}

func TestHTTPInvalidURL(t *testing.T) {
	err := NewHTTP("http://user:hunter2@127.0.0.1:badport/", time.Second, 1).Run(context.Background(), 0, nil)
	if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "last failure: invalid URL: ") {
		t.Fatalf("error = %v", err)
	}
}
