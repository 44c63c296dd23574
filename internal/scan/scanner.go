package scan

import (
	"context"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Scanner runs a Detector over every blob of a source on all cores.
type Scanner struct {
	Detector *Detector
	Workers  int       // 0: GOMAXPROCS
	Baseline *Baseline // findings it lists are dropped (counted)
	Ignore   *PathFilter
	// Progress, when set, is called about every 200ms during the blob pass
	// with the blobs and bytes scanned so far, from its own goroutine.
	Progress func(blobs, bytes int64)
}

// Result is the outcome of one scan.
type Result struct {
	Findings    []Finding // by subject, then commit date, path and line
	Blobs       int64     // blobs scanned
	Bytes       int64     // bytes scanned
	BinaryBlobs int64     // binary-looking blobs (known values only)
	Baselined   int       // findings dropped because the baseline lists them
	Duration    time.Duration
	// AttributeDuration is the part of Duration spent finding commits.
	AttributeDuration time.Duration
}

// Run scans every blob src produces. When src is an Attributor, findings
// are attributed to the commit that introduced them. Findings with the same
// fingerprint are merged into the earliest one.
func (s *Scanner) Run(ctx context.Context, src Source) (*Result, error) {
	start := time.Now()
	workers := s.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	res := &Result{}
	var blobs, bytes, binary atomic.Int64
	var mu sync.Mutex
	var found []Finding
	ch := make(chan Blob, workers*2)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range ch {
				blobs.Add(1)
				bytes.Add(int64(len(b.Data)))
				bin := looksBinary(b.Data)
				if bin {
					binary.Add(1)
				}
				ms := s.Detector.Detect(b.Data, bin)
				if b.pooled {
					putBuffer(b.Data)
				}
				if len(ms) == 0 {
					continue
				}
				fs := make([]Finding, 0, len(ms))
				for _, m := range ms {
					f := Finding{RuleID: m.RuleID(), Secret: m.Secret, Path: b.Path, Line: m.Line, Column: m.Column, Blob: b.ID, Occurrences: 1}
					if m.Known != nil {
						f.Description = "known value"
						f.Owners = m.Known.Owners
					} else {
						f.Description = m.Rule.Description
					}
					fs = append(fs, f)
				}
				mu.Lock()
				found = append(found, fs...)
				mu.Unlock()
			}
		}()
	}
	stopProgress := make(chan struct{})
	progressDone := make(chan struct{})
	go func() {
		defer close(progressDone)
		if s.Progress == nil {
			return
		}
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-tick.C:
				s.Progress(blobs.Load(), bytes.Load())
			case <-stopProgress:
				return
			}
		}
	}()
	err := src.Blobs(ctx, func(b Blob) error {
		select {
		case ch <- b:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(ch)
	wg.Wait()
	close(stopProgress)
	<-progressDone
	if err != nil {
		return nil, err
	}
	res.Blobs, res.Bytes, res.BinaryBlobs = blobs.Load(), bytes.Load(), binary.Load()

	if a, ok := src.(Attributor); ok && len(found) > 0 {
		blobs := map[string]string{}
		for _, f := range found {
			blobs[f.Blob] = f.Path
		}
		t := time.Now()
		commits, err := a.Attribute(ctx, blobs)
		res.AttributeDuration = time.Since(t)
		if err != nil {
			return nil, err
		}
		for i := range found {
			if c, ok := commits[found[i].Blob]; ok {
				found[i].Commit = c
				found[i].Path = c.Path
			}
		}
	}
	res.Findings, res.Baselined = s.merge(found)
	res.Duration = time.Since(start)
	return res, nil
}

// merge drops ignored and baselined findings, fingerprints the rest and
// keeps the earliest finding of each fingerprint.
func (s *Scanner) merge(found []Finding) ([]Finding, int) {
	slices.SortFunc(found, func(a, b Finding) int {
		if c := a.Commit.Date.Compare(b.Commit.Date); c != 0 && !a.Commit.Date.IsZero() && !b.Commit.Date.IsZero() {
			return c
		}
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return a.Line - b.Line
	})
	byFP := map[string]int{}
	var out []Finding
	baselined := 0
	for _, f := range found {
		if s.Ignore.Skip(f.Path) {
			continue
		}
		f.Fingerprint = Fingerprint(f.Subject(), f.Path, f.Secret)
		if s.Baseline.Contains(f.Fingerprint) {
			baselined++
			continue
		}
		if i, ok := byFP[f.Fingerprint]; ok {
			if f.Blob == "" || f.Blob != out[i].Blob {
				out[i].Occurrences++
			}
			continue
		}
		byFP[f.Fingerprint] = len(out)
		out = append(out, f)
	}
	slices.SortStableFunc(out, func(a, b Finding) int { return rank(a) - rank(b) })
	return out, baselined
}

// rank orders findings for reports: live known values first, then retired
// ones, then rule findings.
func rank(f Finding) int {
	switch {
	case f.Live():
		return 0
	case f.Known():
		return 1
	}
	return 2
}
