package dotenv

import (
	"bytes"
	"fmt"
	"strings"
)

// writeShell writes export lines with single-quoted values. Inside POSIX
// single quotes every byte is literal, so the only character to handle is '
// itself, which is written as close quote, escaped quote, reopen:
//
//	export MSG='it'\''s'
//
// That makes the output safe to source in sh, bash and zsh for any value,
// newlines and invalid UTF-8 included. Shell variables cannot hold NUL, so a
// NUL byte is an error, and keys must be shell identifiers.
func writeShell(buf *bytes.Buffer, entries []Entry) error {
	for _, e := range entries {
		if !isShellName(e.Key) {
			return fmt.Errorf("shell format needs keys that are shell identifiers ([A-Za-z_][A-Za-z0-9_]*) (key %s)", e.Key)
		}
		if strings.IndexByte(e.Value, 0) >= 0 {
			return unrepresentable(FormatShell, "containing a NUL byte", e.Key)
		}
		buf.WriteString("export ")
		buf.WriteString(e.Key)
		buf.WriteString("='")
		buf.WriteString(strings.ReplaceAll(e.Value, "'", `'\''`))
		buf.WriteString("'\n")
	}
	return nil
}

func isShellName(s string) bool {
	if s == "" || !isNameStart(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !isNameByte(s[i]) {
			return false
		}
	}
	return true
}
