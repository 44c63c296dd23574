package demo

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// event is one line of `slickenv rotate --json`. Total is the number of
// steps in a step event and the number of checks in a window event.
type event struct {
	Event string `json:"event"`
	// plan
	Rotation string            `json:"rotation"`
	Name     string            `json:"name"`
	Env      string            `json:"env"`
	Provider string            `json:"provider"`
	Rollback []json.RawMessage `json:"rollback"`
	// step
	Step   int    `json:"step"`
	Total  int    `json:"total"`
	Title  string `json:"title"`
	Status string `json:"status"`
	Detail string `json:"detail"`
	// window
	ElapsedMS   int64 `json:"elapsed_ms"`
	RemainingMS int64 `json:"remaining_ms"`
	Succeeded   int   `json:"succeeded"`
	// state
	State string `json:"state"`
	// info, done
	Message string `json:"message"`
	Outcome string `json:"outcome"`
	Exit    int    `json:"exit"`
}

// rotation is the outcome of `slickenv rotate`.
type rotation struct {
	ID       string
	Outcome  string // from the done event; "" when there was none
	ExitCode int
	States   []string
	Stderr   string
	Message  string // the done event's message: why it did not finish
	Steps    int    // steps that finished ok
}

func (r rotation) ok() bool { return r.ExitCode == 0 && r.Outcome == "done" }

// rotationView renders rotate's event stream as the step display, with the
// sender's counters.
type rotationView struct {
	scr    *screen
	sender *sender

	mu       sync.Mutex
	step     *event    // the step in progress, nil between steps
	window   *event    // the last window event of the step in progress
	windowAt time.Time // when it arrived
	spinner  int
}

// animate redraws the status line every 100ms until ctx is done, so the
// countdown and the counters move between events, then removes it.
func (v *rotationView) animate(ctx context.Context) {
	if !v.scr.live {
		return
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			v.scr.setStatus("")
			return
		case <-t.C:
			v.mu.Lock()
			v.redraw()
			v.mu.Unlock()
		}
	}
}

var spinnerFrames = []rune("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")

// stepLine renders "[n/N] Title...   result" with results aligned, as
// `slickenv rotate` does.
func stepLine(e *event, result string) string {
	return fmt.Sprintf("%-46s %s", fmt.Sprintf("[%d/%d] %s...", e.Step, e.Total, e.Title), result)
}

func (v *rotationView) handle(e *event, r *rotation) {
	v.mu.Lock()
	defer v.mu.Unlock()
	switch e.Event {
	case "plan":
		r.ID = e.Rotation
		v.scr.printf("Rotating %s in %s with the %s provider (rotation %s).", e.Name, e.Env, e.Provider, e.Rotation)
		if len(e.Rollback) > 0 {
			v.scr.printf("If anything fails before the old key is revoked, it rolls back:")
			for _, step := range e.Rollback {
				v.scr.printf("  ↺ %s", planStep(step))
			}
		}
		v.scr.printf("")
	case "step":
		switch e.Status {
		case "start":
			v.step, v.window = e, nil
		case "ok", "fail", "skip":
			mark := "✓"
			switch e.Status {
			case "ok":
				r.Steps++
			case "fail":
				mark = "✗"
			case "skip":
				mark = "–"
			}
			v.step, v.window = nil, nil
			detail := strings.ReplaceAll(strings.TrimSpace(e.Detail), "\n", "; ")
			v.scr.printf("%s", strings.TrimRight(stepLine(e, mark+" "+detail), " "))
		}
	case "window":
		v.window, v.windowAt = e, time.Now()
	case "state":
		r.States = append(r.States, e.State)
		switch e.State {
		case "rolling_back", "rolled_back", "awaiting_approval":
			v.scr.note("rotation state: %s", e.State)
		}
	case "info":
		v.scr.note("%s", e.Message)
	case "done":
		if e.Rotation != "" {
			r.ID = e.Rotation
		}
		r.Outcome, r.Message = e.Outcome, e.Message
	}
	v.redraw()
}

// redraw refreshes the status line; v.mu is held.
func (v *rotationView) redraw() {
	if !v.scr.live {
		return
	}
	v.spinner = (v.spinner + 1) % len(spinnerFrames)
	c := v.sender.counts()
	if v.step == nil {
		v.scr.setStatus(fmt.Sprintf("      %c webhooks %d ✓ %d ✗ (signing with the %s key)", spinnerFrames[v.spinner], c.OK, c.Failed, c.Key))
		return
	}
	line := fmt.Sprintf("[%d/%d] %s... %c ", v.step.Step, v.step.Total, v.step.Title, spinnerFrames[v.spinner])
	if w := v.window; w != nil {
		left := max(time.Duration(w.RemainingMS)*time.Millisecond-time.Since(v.windowAt), 0)
		line += fmt.Sprintf("%.1fs · checks %d/%d · ", left.Seconds(), w.Succeeded, w.Total)
	}
	// Short enough for 80 columns: "webhooks 525 ✓ 0 ✗".
	line += fmt.Sprintf("webhooks %d ✓ %d ✗", c.OK, c.Failed)
	v.scr.setStatus(line)
}

// planStep renders one step of a plan: a string, or an object with a
// title or description.
func planStep(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var obj map[string]any
	if json.Unmarshal(raw, &obj) == nil {
		for _, k := range []string{"title", "description", "action", "step"} {
			if t, ok := obj[k].(string); ok && t != "" {
				return t
			}
		}
	}
	return string(raw)
}

// rotate runs `slickenv rotate WEBHOOK_SECRET --json` and renders its events
// until it exits.
func rotate(ctx context.Context, p *project, v *rotationView) rotation {
	cmd := p.command(ctx, "rotate", "WEBHOOK_SECRET", "-e", "production", "--yes", "--json")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	var r rotation
	out, err := cmd.StdoutPipe()
	if err == nil {
		err = cmd.Start()
	}
	if err != nil {
		r.ExitCode, r.Stderr = -1, err.Error()
		return r
	}

	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var e event
		if json.Unmarshal(line, &e) != nil || e.Event == "" {
			v.scr.note("rotate: %s", line)
			continue
		}
		v.handle(&e, &r)
	}
	err = cmd.Wait()

	r.Stderr = strings.TrimSpace(stderr.String())
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		r.ExitCode = ee.ExitCode()
	default:
		r.ExitCode = -1
		if r.Stderr == "" {
			r.Stderr = err.Error()
		}
	}
	return r
}
