package dotenv

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

// writeJSON writes one object with a string member per entry, in order,
// indented by two spaces and followed by a newline. JSON strings are Unicode,
// so a value that is not valid UTF-8 is an error (encoding/json would
// silently replace the bad bytes).
func writeJSON(buf *bytes.Buffer, entries []Entry) error {
	buf.WriteByte('{')
	for i, e := range entries {
		if !utf8.ValidString(e.Value) {
			return unrepresentable(FormatJSON, "that is not valid UTF-8", e.Key)
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteString("\n  ")
		writeJSONString(buf, e.Key)
		buf.WriteString(": ")
		writeJSONString(buf, e.Value)
	}
	if len(entries) > 0 {
		buf.WriteByte('\n')
	}
	buf.WriteString("}\n")
	return nil
}

// writeJSONString writes s, which must be valid UTF-8, as a JSON string.
// Only what JSON requires is escaped, so HTML characters stay readable.
func writeJSONString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			buf.WriteByte('\\')
			buf.WriteByte(c)
		case c == '\n':
			buf.WriteString(`\n`)
		case c == '\r':
			buf.WriteString(`\r`)
		case c == '\t':
			buf.WriteString(`\t`)
		case c < 0x20:
			fmt.Fprintf(buf, `\u%04x`, c)
		default:
			buf.WriteByte(c)
		}
	}
	buf.WriteByte('"')
}
