package main

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"
)

// period splits a mode's requests: before = after the warm-up and before the
// first rotation; during = scheduled while a rotation ran.
func (r modeRun) period(during bool) []result {
	if len(r.rotations) == 0 {
		return nil
	}
	var out []result
	for _, res := range r.results {
		in := false
		for _, rot := range r.rotations {
			if res.at >= rot.start && res.at <= rot.end {
				in = true
			}
		}
		if during && in || !during && res.at >= r.warmup && res.at < r.rotations[0].start {
			out = append(out, res)
		}
	}
	return out
}

func latencies(rs []result) []time.Duration {
	ls := make([]time.Duration, len(rs))
	for i, r := range rs {
		ls[i] = r.latency
	}
	slices.Sort(ls)
	return ls
}

func failedCount(rs []result) int {
	n := 0
	for _, r := range rs {
		if r.failed() {
			n++
		}
	}
	return n
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

func renderTable(o options, runs []modeRun) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%.0f req/s open loop, %.0f%% reads, timeout %s, window %s per rotation; %s, %d CPUs, load average %s before, %s after\n\n",
		o.rate, o.readFraction*100, o.timeout, o.window, time.Now().UTC().Format("2006-01-02 15:04 UTC"), runtime.NumCPU(), o.loadBefore, o.loadAfter)
	fmt.Fprintf(&b, "%-8s %9s %8s %6s | %10s %10s %10s | %10s %10s %10s\n",
		"mode", "rotations", "requests", "failed", "p50 before", "p99 before", "max before", "p50 during", "p99 during", "max during")
	for _, r := range runs {
		ok := 0
		for _, rot := range r.rotations {
			if rot.outcome == "done" {
				ok++
			}
		}
		before, during := latencies(r.period(false)), latencies(r.period(true))
		fmt.Fprintf(&b, "%-8s %9s %8d %6d | %10s %10s %10s | %10s %10s %10s\n",
			r.mode, fmt.Sprintf("%d/%d", ok, len(r.rotations)), len(r.results), failedCount(r.results),
			ms(percentile(before, .5)), ms(percentile(before, .99)), ms(percentile(before, 1)),
			ms(percentile(during, .5)), ms(percentile(during, .99)), ms(percentile(during, 1)))
	}
	b.WriteString("\n")
	for _, r := range runs {
		during := r.period(true)
		fmt.Fprintf(&b, "%s: %d requests during rotations, %d failed;", r.mode, len(during), failedCount(during))
		errs := map[string]int{}
		for _, res := range r.results {
			if res.failed() {
				errs[failureKind(res)]++
			}
		}
		keys := make([]string, 0, len(errs))
		for k := range errs {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, " %s: %d;", k, errs[k])
		}
		for i, rot := range r.rotations {
			if rot.outcome != "done" {
				fmt.Fprintf(&b, " rotation %d: %s;", i+1, rot.outcome)
			}
		}
		b.WriteString("\n")
	}
	// Every failure of a run without many, next to the nearest step: the
	// place to start looking.
	for _, r := range runs {
		if n := failedCount(r.results); n == 0 || n > 50 {
			continue
		}
		fmt.Fprintf(&b, "\n%s failures:\n", r.mode)
		for _, res := range r.results {
			if !res.failed() {
				continue
			}
			near := ""
			best := time.Duration(math.MaxInt64)
			for _, m := range r.marks {
				if d := res.at - m.at; d.Abs() < best.Abs() {
					best, near = d, fmt.Sprintf("%+.0fms from rotation %d %s", float64(d)/float64(time.Millisecond), m.rotation, m.step)
				}
			}
			fmt.Fprintf(&b, "  at %6.3fs (%s), %s: %s\n", res.at.Seconds(), near, map[bool]string{true: "POST", false: "GET"}[res.write], failureKind(res))
		}
	}
	return b.String()
}

// failureKind names a failure without the details that vary (ports, pids).
func failureKind(r result) string {
	switch {
	case r.status != 0:
		return fmt.Sprintf("HTTP %d", r.status)
	case strings.Contains(r.err, "connection refused"):
		return "connection refused"
	case strings.Contains(r.err, "connection reset"):
		return "connection reset"
	case strings.Contains(r.err, "Timeout") || strings.Contains(r.err, "deadline"):
		return "timeout"
	case strings.Contains(r.err, "EOF"):
		return "EOF"
	}
	return "other error"
}

// SVG geometry.
const (
	svgWidth   = 1000
	panelH     = 250
	marginL    = 64
	marginR    = 16
	marginT    = 34
	marginB    = 36
	minLatency = 0.1 // ms, bottom of the log scale
)

var stepColor = map[string]string{
	"created": "#7b3294", "distributed": "#1f78b4", "switched": "#ff7f00", "verified": "#33a02c", "revoked": "#555555",
}
var stepOrder = []string{"created", "distributed", "switched", "verified", "revoked"}

// renderSVG draws every request's latency over time, one panel per mode, on
// a log scale; failed requests are red; rotations are shaded and their
// steps marked. Hand-written: no library, no external resource.
func renderSVG(o options, runs []modeRun) string {
	var b strings.Builder
	height := marginT + len(runs)*(panelH+marginT+marginB) + 24
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="system-ui,-apple-system,Segoe UI,Helvetica,Arial,sans-serif" font-size="12">`+"\n",
		svgWidth, height, svgWidth, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/>`+"\n")
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="15" font-weight="600">slickenv: latency of every request while DATABASE_URL rotates %d× (%.0f req/s, open loop)</text>`+"\n",
		marginL, o.rotations, o.rate)
	var maxT time.Duration
	for _, r := range runs {
		if n := len(r.results); n > 0 && r.results[n-1].at > maxT {
			maxT = r.results[n-1].at
		}
	}
	maxT += time.Second
	maxMS := float64(o.timeout) / float64(time.Millisecond)
	for i, r := range runs {
		top := marginT + 20 + i*(panelH+marginT+marginB)
		drawPanel(&b, r, top, maxT, maxMS)
	}
	// Legend.
	y := height - 10
	x := marginL
	fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="3" fill="#2b6cb0"/><text x="%d" y="%d">request</text>`, x, y-4, x+8, y)
	x += 80
	fmt.Fprintf(&b, `<circle cx="%d" cy="%d" r="3.5" fill="#e00"/><text x="%d" y="%d">failed request</text>`, x, y-4, x+8, y)
	x += 120
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="14" height="10" fill="#f3e9c6"/><text x="%d" y="%d">rotation</text>`, x, y-10, x+18, y)
	x += 90
	for _, s := range stepOrder {
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"/><text x="%d" y="%d">%s</text>`, x, y-11, x, y+1, stepColor[s], x+5, y, s)
		x += 16 + 7*len(s)
	}
	b.WriteString("\n</svg>\n")
	return b.String()
}

func drawPanel(b *strings.Builder, r modeRun, top int, maxT time.Duration, maxMS float64) {
	plotW := float64(svgWidth - marginL - marginR)
	xOf := func(t time.Duration) float64 { return marginL + plotW*float64(t)/float64(maxT) }
	logMin, logMax := math.Log10(minLatency), math.Log10(maxMS)
	yOf := func(latencyMS float64) float64 {
		l := math.Log10(math.Max(minLatency, math.Min(maxMS, latencyMS)))
		return float64(top) + panelH*(1-(l-logMin)/(logMax-logMin))
	}
	title := map[string]string{
		"handoff": "handoff: slickenv run --watch --listen (socket passed to the new process)",
		"restart": "plain restart: slickenv run --watch (stop, then start)",
	}[r.mode]
	failed := failedCount(r.results)
	fmt.Fprintf(b, `<text x="%d" y="%d" font-size="13" font-weight="600">%s — %d requests, <tspan fill="%s">%d failed</tspan></text>`+"\n",
		marginL, top-8, title, len(r.results), map[bool]string{true: "#e00", false: "#1a7f37"}[failed > 0], failed)
	fmt.Fprintf(b, `<rect x="%d" y="%d" width="%.0f" height="%d" fill="#fafafa" stroke="#ccc"/>`+"\n", marginL, top, plotW, panelH)
	for _, rot := range r.rotations {
		fmt.Fprintf(b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="#f3e9c6" opacity="0.7"/>`+"\n",
			xOf(rot.start), top, xOf(rot.end)-xOf(rot.start), panelH)
	}
	// Axes: decades of latency, seconds of time.
	for e := math.Log10(minLatency); e <= math.Log10(maxMS); e++ {
		v := math.Pow(10, math.Round(e))
		y := yOf(v)
		fmt.Fprintf(b, `<line x1="%d" y1="%.1f" x2="%.0f" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end" fill="#555">%s</text>`+"\n",
			marginL, y, marginL+plotW, y, marginL-6, y+4, latencyLabel(v))
	}
	fmt.Fprintf(b, `<line x1="%d" y1="%d" x2="%.0f" y2="%d" stroke="#e00" stroke-dasharray="4 3" opacity="0.6"/><text x="%.0f" y="%d" text-anchor="end" fill="#e00" font-size="11">timeout %s</text>`+"\n",
		marginL, top, marginL+plotW, top, marginL+plotW-4, top+12, latencyLabel(maxMS))
	step := 5 * time.Second
	for t := time.Duration(0); t <= maxT; t += step {
		x := xOf(t)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="#ccc"/><text x="%.1f" y="%d" text-anchor="middle" fill="#555">%ds</text>`+"\n",
			x, top+panelH, x, top+panelH+4, x, top+panelH+16, int(t/time.Second))
	}
	fmt.Fprintf(b, `<text x="14" y="%d" transform="rotate(-90 14 %d)" text-anchor="middle" fill="#555">latency (log)</text>`+"\n", top+panelH/2, top+panelH/2)
	// Step marks, labelled with the rotation number at the top.
	for _, m := range r.marks {
		x := xOf(m.at)
		fmt.Fprintf(b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s" stroke-width="1.5" opacity="0.85"/>`+"\n",
			x, top, x, top+panelH, stepColor[m.step])
	}
	for i, rot := range r.rotations {
		fmt.Fprintf(b, `<text x="%.1f" y="%d" fill="#8a6d00" font-size="11">#%d</text>`+"\n", xOf(rot.start)+2, top+12, i+1)
	}
	// Requests: one path of dots (zero-length round-capped segments) keeps
	// thousands of points small.
	var ok, bad strings.Builder
	for _, res := range r.results {
		lat := float64(res.latency) / float64(time.Millisecond)
		dot := fmt.Sprintf("M%.1f %.1fh0", xOf(res.at), yOf(lat))
		if res.failed() {
			bad.WriteString(dot)
		} else {
			ok.WriteString(dot)
		}
	}
	fmt.Fprintf(b, `<path d="%s" stroke="#2b6cb0" stroke-width="2.2" stroke-linecap="round" opacity="0.55"/>`+"\n", ok.String())
	if bad.Len() > 0 {
		fmt.Fprintf(b, `<path d="%s" stroke="#e00" stroke-width="4.5" stroke-linecap="round"/>`+"\n", bad.String())
	}
}

func latencyLabel(ms float64) string {
	switch {
	case ms >= 1000:
		return fmt.Sprintf("%gs", ms/1000)
	case ms >= 1:
		return fmt.Sprintf("%gms", math.Round(ms))
	}
	return fmt.Sprintf("%gms", ms)
}
