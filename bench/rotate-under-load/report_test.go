package main

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	var ls []time.Duration
	for i := 1; i <= 100; i++ {
		ls = append(ls, time.Duration(i)*time.Millisecond)
	}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{.5, 50 * time.Millisecond}, {.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}, {0, time.Millisecond}} {
		if got := percentile(ls, tt.p); got != tt.want {
			t.Errorf("percentile(%v) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := percentile(nil, .5); got != 0 {
		t.Errorf("percentile of nothing = %v", got)
	}
}

func fakeRun() modeRun {
	r := modeRun{mode: "restart", warmup: time.Second,
		rotations: []rotationRun{{start: 3 * time.Second, end: 5 * time.Second, outcome: "done"}},
		marks:     []mark{{rotation: 1, step: "switched", at: 4 * time.Second}},
	}
	for i := range 60 {
		res := result{at: time.Duration(i) * 100 * time.Millisecond, latency: 2 * time.Millisecond, status: 200}
		if i == 40 { // at 4s, during the rotation
			res.status, res.err = 0, "dial tcp: connect: connection refused"
		}
		r.results = append(r.results, res)
	}
	return r
}

func TestPeriods(t *testing.T) {
	r := fakeRun()
	before, during := r.period(false), r.period(true)
	if len(before) != 20 { // 1.0s … 2.9s
		t.Errorf("before: %d requests, want 20", len(before))
	}
	if len(during) != 21 || failedCount(during) != 1 { // 3.0s … 5.0s
		t.Errorf("during: %d requests, %d failed; want 21, 1", len(during), failedCount(during))
	}
}

func TestReport(t *testing.T) {
	o := options{rate: 10, readFraction: .8, timeout: 2 * time.Second, window: time.Second, rotations: 1}
	runs := []modeRun{fakeRun()}
	table := renderTable(o, runs)
	for _, want := range []string{"restart        1/1       60      1", "connection refused: 1", "+0ms from rotation 1 switched"} {
		if !strings.Contains(table, want) {
			t.Errorf("table lacks %q:\n%s", want, table)
		}
	}
	d := xml.NewDecoder(strings.NewReader(renderSVG(o, runs)))
	for {
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v", err)
		}
	}
}
