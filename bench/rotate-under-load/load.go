package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
)

// result is one request of the load: when it was due, how long it took from
// then (open loop: a stall shows as latency, not as fewer requests), and how
// it ended.
type result struct {
	at      time.Duration // scheduled start, since the load began
	latency time.Duration
	status  int // 0: no response (refused, reset, timeout)
	write   bool
	err     string
}

func (r result) failed() bool { return r.status < 200 || r.status > 299 }

// load sends requests at a constant rate, by the wall clock, without waiting
// for earlier ones, until stop is closed or maxDuration passes.
type load struct {
	base          string
	rate          float64
	readFraction  float64
	timeout       time.Duration
	maxDuration   time.Duration
	existingOrder int // reads ask for ids 1..existingOrder
}

func (l load) run(stop <-chan struct{}, started chan<- time.Time) (start time.Time, results []result) {
	client := &http.Client{
		Timeout: l.timeout,
		// One connection per request: every request goes through the
		// listening socket, so the benchmark measures the socket handoff,
		// not a client's reuse of connections to a stopping process.
		Transport: &http.Transport{DisableKeepAlives: true, MaxConnsPerHost: 0},
	}
	rng := rand.New(rand.NewPCG(7, 11))
	interval := time.Duration(float64(time.Second) / l.rate)
	maxRequests := int(l.maxDuration / interval)
	results = make([]result, 0, maxRequests)
	var mu sync.Mutex
	var wg sync.WaitGroup
	start = time.Now()
	started <- start
	for i := 0; i < maxRequests; i++ {
		due := time.Duration(i) * interval
		select {
		case <-stop:
			wg.Wait()
			return start, sortByStart(results)
		case <-time.After(time.Until(start.Add(due))):
		}
		write := rng.Float64() >= l.readFraction
		id := 1 + rng.IntN(l.existingOrder)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := l.one(client, write, id, i)
			r.at = due
			r.latency = time.Since(start.Add(due))
			mu.Lock()
			results = append(results, r)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return start, sortByStart(results)
}

func (l load) one(client *http.Client, write bool, id, n int) result {
	var req *http.Request
	if write {
		req, _ = http.NewRequestWithContext(context.Background(), "POST", l.base+"/orders",
			strings.NewReader(fmt.Sprintf(`{"sku":"bench-%d"}`, n)))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req, _ = http.NewRequestWithContext(context.Background(), "GET", fmt.Sprintf("%s/orders/%d", l.base, id), nil)
	}
	resp, err := client.Do(req)
	if err != nil {
		return result{write: write, err: err.Error()}
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return result{write: write, status: resp.StatusCode}
}

func sortByStart(rs []result) []result {
	slices.SortFunc(rs, func(a, b result) int { return int(a.at - b.at) })
	return rs
}

// percentile returns the p-th percentile (0..1) of sorted latencies, nearest rank.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
