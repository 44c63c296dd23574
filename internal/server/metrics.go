package server

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// buckets are the latency histogram's upper bounds, in seconds.
var buckets = []float64{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

type routeCode struct {
	route string
	code  int
}

type histogram struct {
	counts []uint64 // per bucket, not cumulative; last is +Inf
	sum    float64
	n      uint64
}

// metrics are the server's counters, written in the Prometheus text
// format by hand (no client library): per-process, like every Prometheus
// counter; a scrape of each replica gives the whole picture.
type metrics struct {
	mu       sync.Mutex
	requests map[routeCode]uint64
	latency  map[string]*histogram
}

func newMetrics() *metrics {
	return &metrics{requests: map[routeCode]uint64{}, latency: map[string]*histogram{}}
}

func (m *metrics) observe(route string, code int, d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.requests[routeCode{route, code}]++
	h := m.latency[route]
	if h == nil {
		h = &histogram{counts: make([]uint64, len(buckets)+1)}
		m.latency[route] = h
	}
	sec := d.Seconds()
	i := sort.SearchFloat64s(buckets, sec)
	h.counts[i]++
	h.sum += sec
	h.n++
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) {
	var b strings.Builder
	s.metrics.write(&b)
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	states, err := s.b.rotationStates(ctx)
	b.WriteString("# HELP slickenv_rotations Rotations in the journal by state (all replicas: read from the database).\n# TYPE slickenv_rotations gauge\n")
	names := make([]string, 0, len(states))
	for k := range states {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(&b, "slickenv_rotations{state=%s} %d\n", quote(k), states[k])
	}
	if err == nil {
		err = s.writeSecretAges(ctx, &b)
	}
	up := 1
	if err != nil {
		up = 0
	}
	fmt.Fprintf(&b, "# HELP slickenv_database_up Whether the last scrape could read the database.\n# TYPE slickenv_database_up gauge\nslickenv_database_up %d\n", up)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	_, _ = w.Write([]byte(b.String()))
}

func (m *metrics) write(b *strings.Builder) {
	m.mu.Lock()
	defer m.mu.Unlock()
	keys := make([]routeCode, 0, len(m.requests))
	for k := range m.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].route != keys[j].route {
			return keys[i].route < keys[j].route
		}
		return keys[i].code < keys[j].code
	})
	b.WriteString("# HELP slickenv_http_requests_total HTTP requests by route and status code.\n# TYPE slickenv_http_requests_total counter\n")
	for _, k := range keys {
		fmt.Fprintf(b, "slickenv_http_requests_total{route=%s,code=\"%d\"} %d\n", quote(k.route), k.code, m.requests[k])
	}
	routes := make([]string, 0, len(m.latency))
	for r := range m.latency {
		routes = append(routes, r)
	}
	sort.Strings(routes)
	b.WriteString("# HELP slickenv_http_request_duration_seconds HTTP request latencies by route.\n# TYPE slickenv_http_request_duration_seconds histogram\n")
	for _, r := range routes {
		h := m.latency[r]
		var cum uint64
		for i, le := range buckets {
			cum += h.counts[i]
			fmt.Fprintf(b, "slickenv_http_request_duration_seconds_bucket{route=%s,le=\"%s\"} %d\n", quote(r), strconv.FormatFloat(le, 'g', -1, 64), cum)
		}
		cum += h.counts[len(buckets)]
		fmt.Fprintf(b, "slickenv_http_request_duration_seconds_bucket{route=%s,le=\"+Inf\"} %d\n", quote(r), cum)
		fmt.Fprintf(b, "slickenv_http_request_duration_seconds_sum{route=%s} %s\n", quote(r), strconv.FormatFloat(h.sum, 'g', -1, 64))
		fmt.Fprintf(b, "slickenv_http_request_duration_seconds_count{route=%s} %d\n", quote(r), h.n)
	}
}

// quote escapes a label value.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`).Replace(s) + `"`
}

// writeSecretAges writes, for every variable set at the head of every
// environment, the time since its value entered the environment (names and
// times are metadata: no value is read).
func (s *Server) writeSecretAges(ctx context.Context, b *strings.Builder) error {
	envs, err := s.b.allEnvs(ctx)
	if err != nil {
		return err
	}
	b.WriteString("# HELP slickenv_secret_age_seconds Time since each variable's current value entered its environment.\n# TYPE slickenv_secret_age_seconds gauge\n")
	now := s.b.now()
	for _, e := range envs {
		head, err := s.b.Store.Head(ctx, e.id)
		if err != nil {
			return err
		}
		rows, err := s.b.Store.Snapshot(ctx, e.id, head.Version)
		if err != nil {
			return err
		}
		for _, r := range rows {
			fmt.Fprintf(b, "slickenv_secret_age_seconds{project=%s,env=%s,name=%s} %s\n", quote(e.project), quote(e.name), quote(r.Name),
				strconv.FormatFloat(now.Sub(r.ValueSince).Seconds(), 'f', 0, 64))
		}
	}
	return nil
}
