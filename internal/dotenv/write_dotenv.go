package dotenv

import (
	"bytes"
	"strings"
)

// writeDotenv writes KEY=value lines that Parse (without Expand) reads back
// byte for byte. Every value is representable: see quoteDotenv.
func writeDotenv(buf *bytes.Buffer, entries []Entry) error {
	for _, e := range entries {
		buf.WriteString(e.Key)
		buf.WriteByte('=')
		buf.WriteString(quoteDotenv(e.Value))
		buf.WriteByte('\n')
	}
	return nil
}

// quoteDotenv picks the plainest representation that every common reader
// understands the same way:
//
//   - bare, for non-empty values made only of bytes no reader treats
//     specially (letters, digits and _-./:@%+,=);
//   - single quotes, for values without ' and without control bytes. This
//     includes every value with a $, so tools that do expand $ in unquoted
//     and double-quoted values leave it alone;
//   - double quotes otherwise, escaping \ " LF CR and TAB. Other bytes,
//     including NUL, other control bytes and invalid UTF-8, are written raw:
//     Parse is byte-oriented and takes them back unchanged. A $ inside
//     double quotes is written raw too, so such a value is only faithful
//     to readers that do not expand.
//
// Backticks are never written: few readers other than node understand them.
func quoteDotenv(v string) string {
	if v != "" && strings.IndexFunc(v, func(r rune) bool { return r >= 0x80 || !isBareByte(byte(r)) }) < 0 {
		return v
	}
	if !strings.ContainsFunc(v, func(r rune) bool { return r == '\'' || r < 0x20 || r == 0x7f }) {
		return "'" + v + "'"
	}
	var b strings.Builder
	b.Grow(len(v) + 2)
	b.WriteByte('"')
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\', '"':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

func isBareByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte("_-./:@%+,=", c) >= 0
}
