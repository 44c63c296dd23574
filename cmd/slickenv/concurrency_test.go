package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// TestConcurrentSets starts many `slickenv set` processes on one
// environment at once. Each either wins (exit 0, one new version) or loses
// cleanly (exit 4, nothing written); history shows exactly one version per
// winner, and each winner's version holds its value: no lost update.
func TestConcurrentSets(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	p.mustRun("", "set", "K=v0", "OTHER=x")
	const n = 20
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			results[i] = p.run("", "set", "--json", "-m", "writer "+strconv.Itoa(i), fmt.Sprintf("K=v%d", i+1))
		}()
	}
	close(start)
	wg.Wait()

	winners := map[int64]string{} // version → value written
	losers := 0
	for i, r := range results {
		value := fmt.Sprintf("v%d", i+1)
		switch r.code {
		case 0:
			var out struct {
				Written bool  `json:"written"`
				Base    int64 `json:"base"`
				Version int64 `json:"version"`
			}
			if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
				t.Fatalf("writer %d: %v: %q", i, err, r.stdout)
			}
			if !out.Written || out.Version != out.Base+1 {
				t.Errorf("writer %d: %+v", i, out)
			}
			if prev, dup := winners[out.Version]; dup {
				t.Errorf("writers of %s and %s both claim v%d", prev, value, out.Version)
			}
			winners[out.Version] = value
		case 4:
			losers++
			if r.stdout != "" {
				t.Errorf("writer %d lost but printed %q", i, r.stdout)
			}
			if !strings.HasPrefix(r.stderr, "slickenv: error: ") || !strings.Contains(r.stderr, "slickenv: hint: ") {
				t.Errorf("writer %d: unclear error %q", i, r.stderr)
			}
		default:
			t.Errorf("writer %d exited %d (want 0 or 4): %s", i, r.code, r.stderr)
		}
	}
	t.Logf("%d winners, %d losers", len(winners), losers)
	if len(winners) == 0 {
		t.Fatal("no writer won")
	}

	var h historyJSON
	p.jsonOf(&h, "history", "--json", "--limit", "0")
	if got, want := len(h.Versions), 1+len(winners); got != want {
		t.Fatalf("history has %d versions, want %d (1 + %d winners)", got, want, len(winners))
	}
	for i, v := range h.Versions {
		if want := int64(len(h.Versions) - i); v.Version != want {
			t.Errorf("history[%d] is v%d, want v%d (a gap or a duplicate)", i, v.Version, want)
		}
		if v.Version == 1 {
			continue
		}
		if _, ok := winners[v.Version]; !ok {
			t.Errorf("v%d was written by no winner", v.Version)
		}
		if strings.Join(v.Names, ",") != "K" {
			t.Errorf("v%d changed %v, want [K]", v.Version, v.Names)
		}
	}
	for version, value := range winners {
		if got := p.mustRun("", "get", "-n", "--version", strconv.FormatInt(version, 10), "K"); got != value {
			t.Errorf("K at v%d = %q, want %q (a lost update)", version, got, value)
		}
	}
	if got := p.mustRun("", "get", "-n", "OTHER"); got != "x" {
		t.Errorf("OTHER = %q, want x", got)
	}
	// Exactly one audit entry per winner, and the chain is intact.
	var entries []auditJSON
	p.jsonOf(&entries, "audit", "--json")
	sets := 0
	for _, e := range entries {
		if e.Action == "set" {
			sets++
		}
	}
	if sets != 1+len(winners) {
		t.Errorf("%d set entries in the audit log, want %d", sets, 1+len(winners))
	}
	p.mustRun("", "audit", "verify")
}
