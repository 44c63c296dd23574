package dotenv

import (
	"bufio"
	"bytes"
	"strings"
	"unicode/utf8"
)

// writeDocker writes KEY=value lines for docker run --env-file. Docker
// takes everything after the first = literally: no quotes, escapes or
// comments, and leading and trailing whitespace in the value is kept (only
// whitespace at the start of the line is dropped, which is the key's side).
// Values are therefore written raw, and these are errors because docker
// would read something else:
//
//   - a newline (the format is one variable per line);
//   - a trailing CR (docker's line scanner drops it);
//   - a NUL byte (environment variables cannot hold one);
//   - invalid UTF-8 (docker rejects the file);
//   - a line longer than bufio.MaxScanTokenSize-1 bytes (docker's scanner fails).
//
// Docker Compose's env_file uses a different parser that does interpret
// quotes and $; give Compose the dotenv format instead.
func writeDocker(buf *bytes.Buffer, entries []Entry) error {
	for _, e := range entries {
		v := e.Value
		switch {
		case strings.IndexByte(v, '\n') >= 0:
			return unrepresentable(FormatDocker, "containing a newline", e.Key)
		case strings.HasSuffix(v, "\r"):
			return unrepresentable(FormatDocker, "ending in a carriage return", e.Key)
		case strings.IndexByte(v, 0) >= 0:
			return unrepresentable(FormatDocker, "containing a NUL byte", e.Key)
		case !utf8.ValidString(v):
			return unrepresentable(FormatDocker, "that is not valid UTF-8", e.Key)
		case len(e.Key)+1+len(v)+1 > bufio.MaxScanTokenSize:
			return unrepresentable(FormatDocker, "this long", e.Key)
		}
		buf.WriteString(e.Key)
		buf.WriteByte('=')
		buf.WriteString(v)
		buf.WriteByte('\n')
	}
	return nil
}
