package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/slickenv/slickenv/internal/rotate"
)

// rotateRenderer turns engine events into output: a live display on a
// terminal (countdown and counters during the window), one line per step
// without one, or one JSON object per event.
type rotateRenderer struct {
	mu      sync.Mutex
	out     io.Writer
	json    bool
	tty     bool
	color   bool
	pending string // a started step line awaiting its result (tty)
	live    bool   // a window line is on screen (tty)
	id      string // the rotation's id, from the first event naming it
}

func newRotateRenderer(a *App, asJSON bool) *rotateRenderer {
	tty := !asJSON && isTerminal(a.Stdout)
	return &rotateRenderer{out: a.Stdout, json: asJSON, tty: tty, color: tty && os.Getenv("NO_COLOR") == ""}
}

func (r *rotateRenderer) paint(code, s string) string {
	if !r.color {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

func stepLabel(e rotate.Event) string {
	return fmt.Sprintf("[%d/%d] %s...", e.Step, e.Total, e.Title)
}

// Event implements rotate.Reporter.
func (r *rotateRenderer) Event(e rotate.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.id == "" && e.Rotation != "" {
		r.id = e.Rotation
	}
	if r.json {
		b, _ := json.Marshal(e)
		fmt.Fprintf(r.out, "%s\n", b)
		return
	}
	switch e.Kind {
	case "plan":
		fmt.Fprintf(r.out, "Rotating %s in %s (rotation %s)\n", e.Name, e.Env, e.Rotation)
		fmt.Fprintln(r.out, "If anything fails before the old credential is revoked, slickenv will:")
		for _, s := range e.Rollback {
			fmt.Fprintf(r.out, "  - %s\n", s)
		}
	case "step":
		label := fmt.Sprintf("%-46s", stepLabel(e))
		switch e.Status {
		case "start":
			if r.tty {
				r.clearLive()
				fmt.Fprint(r.out, label)
				r.pending = label
			}
		case "ok":
			r.clearLive()
			if !r.tty || r.pending == "" {
				fmt.Fprint(r.out, label)
			}
			fmt.Fprintf(r.out, " %s\n", strings.TrimSpace(r.paint("32", "✓")+" "+e.Detail))
			r.pending = ""
		case "fail":
			r.clearLive()
			if !r.tty || r.pending == "" {
				fmt.Fprint(r.out, label)
			}
			fmt.Fprintf(r.out, " %s %s\n", r.paint("31", "✗"), oneLineErr(e.Detail))
			r.pending = ""
		}
	case "window":
		if !r.tty {
			return // CI logs stay readable: the step line reports the result
		}
		line := fmt.Sprintf("%s %3ds left · %d/%d requests ok", r.pending, (e.RemainingMS+999)/1000, e.Succeeded, e.Total)
		fmt.Fprintf(r.out, "\r%s\x1b[K", line)
		r.live = true
	case "info":
		r.clearLive()
		if r.pending != "" {
			fmt.Fprintln(r.out)
			r.pending = ""
		}
		fmt.Fprintf(r.out, "%s\n", e.Message)
	}
}

func (r *rotateRenderer) clearLive() {
	if r.live {
		fmt.Fprintf(r.out, "\r%s\x1b[K", r.pending)
		r.live = false
	}
}

func oneLineErr(s string) string {
	s = strings.ReplaceAll(s, "\n", "; ")
	if len(s) > 200 {
		s = s[:197] + "..."
	}
	return s
}

// finish prints the closing line (or the done event).
func (r *rotateRenderer) finish(outcome rotate.Outcome, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	code := ExitCode(err)
	if r.json {
		out := string(outcome)
		if out == "" {
			out = "error"
		}
		e := rotate.Event{Kind: "done", Rotation: r.id, Outcome: out, Exit: code}
		if err != nil {
			e.Message = err.Error()
		}
		b, _ := json.Marshal(e)
		fmt.Fprintf(r.out, "%s\n", b)
		return
	}
	r.clearLive()
	if r.pending != "" {
		fmt.Fprintln(r.out)
		r.pending = ""
	}
	switch {
	case outcome == rotate.OutcomeDone:
		fmt.Fprintln(r.out, "Audit log entry created")
	case outcome == rotate.OutcomeAwaitingApproval:
		fmt.Fprintln(r.out, "Waiting for approval: both credentials are valid. Audit log entry created")
	case errors.Is(err, rotate.ErrRolledBack):
		fmt.Fprintln(r.out, "Rolled back. Audit log entries created")
	}
}
