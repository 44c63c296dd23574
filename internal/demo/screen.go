package demo

import (
	"fmt"
	"io"
	"strings"
	"sync"
)

// screen serialises the demo's output. Permanent lines are printed as they
// come; on a terminal (live) one status line below them is redrawn in place.
// Without a terminal there is no status line, so logs stay readable.
type screen struct {
	mu     sync.Mutex
	w      io.Writer
	live   bool
	status string // the status line now shown (live only)
}

// printf prints a permanent line (a newline is added).
func (s *screen) printf(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clear()
	fmt.Fprintf(s.w, format+"\n", args...)
	s.draw()
}

// note prints an indented side line: what the app and the sender did.
func (s *screen) note(format string, args ...any) { s.printf("      "+format, args...) }

// block prints text (command output) indented by two spaces.
func (s *screen) block(text string) {
	text = strings.TrimRight(text, "\n")
	if text == "" {
		return
	}
	s.printf("  %s", strings.ReplaceAll(text, "\n", "\n  "))
}

// statusWidth bounds the status line: a line that wraps cannot be redrawn
// in place.
const statusWidth = 79

// setStatus replaces the status line; "" removes it. No-op unless live.
func (s *screen) setStatus(line string) {
	if !s.live {
		return
	}
	if r := []rune(line); len(r) > statusWidth {
		line = string(r[:statusWidth-1]) + "…"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clear()
	s.status = line
	s.draw()
}

func (s *screen) clear() {
	if s.live && s.status != "" {
		io.WriteString(s.w, "\r\x1b[K")
	}
}

func (s *screen) draw() {
	if s.live && s.status != "" {
		io.WriteString(s.w, s.status)
	}
}
