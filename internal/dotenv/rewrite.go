package dotenv

import (
	"bytes"
	"fmt"
	"slices"
)

// Rewrite returns data with the definitions of the keys in set and unset
// changed and every other byte kept: comments, blank lines, other
// definitions, their order, quoting and line endings stay exactly as they
// were. It is the text surgery behind deploying a new value into a .env file
// that people also edit by hand.
//
//   - A key in set that data defines gets its new value in place of its last
//     (effective) definition. What precedes the value on its line (indent,
//     "export ", the key, blanks around =) and a trailing comment are kept;
//     the value is written as Write writes it, on one line, replacing all the
//     lines of an old multi-line value. Earlier definitions of the same key,
//     which the last one shadows, are removed so no stale value stays behind.
//   - A key in set that data does not define is appended at the end as
//     KEY=value, keys in sorted order, after a line break when data does not
//     end with one.
//   - Every definition of a key in unset is removed, with all of its lines.
//     Unsetting a key that data does not define changes nothing.
//
// New lines use the line ending of data's first line (CRLF or LF; LF for
// data without one). Parse without Expand reads the result as data's
// entries with set applied and unset removed, and Rewrite is idempotent:
// applying the same set and unset to its result returns that result
// unchanged. With an empty set and unset the result equals data.
//
// Data that Parse rejects is not rewritten: Rewrite returns Parse's
// *ParseError (naming "<input>"). A key that is not ValidKey, or that is
// both in set and unset, is an error. Errors never contain a value.
func Rewrite(data []byte, set map[string]string, unset []string) ([]byte, error) {
	for key := range set {
		if !ValidKey(key) {
			return nil, fmt.Errorf("invalid key %q: keys must match [A-Za-z0-9_.-]+", key)
		}
		if slices.Contains(unset, key) {
			return nil, fmt.Errorf("key %s is both set and unset", key)
		}
	}
	for _, key := range unset {
		if !ValidKey(key) {
			return nil, fmt.Errorf("invalid key %q: keys must match [A-Za-z0-9_.-]+", key)
		}
	}
	if _, err := Parse(data, ParseOptions{}); err != nil {
		return nil, err
	}
	src, rawOffset := normalizeWithOffsets(data)
	defs, err := definitionSpans(src)
	if err != nil {
		return nil, err
	}

	// The definition of a set key that survives is its last one.
	last := make(map[string]int)
	for i, d := range defs {
		if _, ok := set[d.key]; ok {
			last[d.key] = i
		}
	}
	var out bytes.Buffer
	out.Grow(len(data) + 64*len(set))
	copied := 0 // raw bytes of data already handled
	for i, d := range defs {
		_, isSet := set[d.key]
		if !isSet && !slices.Contains(unset, d.key) {
			continue
		}
		start, end := rawOffset[d.lineStart], rawOffset[d.lineEnd]
		out.Write(data[copied:start])
		copied = end
		if !isSet || last[d.key] != i {
			continue // removed
		}
		out.Write(data[start:rawOffset[d.valueStart]])
		out.WriteString(quoteDotenv(set[d.key]))
		tail := data[rawOffset[d.valueEnd]:rawOffset[d.eol]]
		if len(tail) > 0 && tail[0] == '#' {
			// A comment right after a closing quote would become part of a
			// bare value.
			out.WriteByte(' ')
		}
		out.Write(tail)
		out.Write(data[rawOffset[d.eol]:end])
	}
	out.Write(data[copied:])

	var missing []string
	for key := range set {
		if _, ok := last[key]; !ok {
			missing = append(missing, key)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		eol := lineEnding(data)
		b := bytes.TrimPrefix(out.Bytes(), []byte("\xef\xbb\xbf"))
		if len(b) > 0 && b[len(b)-1] != '\n' && b[len(b)-1] != '\r' {
			out.WriteString(eol)
		}
		for _, key := range missing {
			out.WriteString(key)
			out.WriteByte('=')
			out.WriteString(quoteDotenv(set[key]))
			out.WriteString(eol)
		}
	}
	return out.Bytes(), nil
}

// definitionSpan locates one definition in normalised input. Definitions
// always own whole lines: one starts at the first non-blank byte of a line
// and ends at the end of the line holding its value's last byte.
type definitionSpan struct {
	key        string
	lineStart  int // first byte of the definition's first line
	valueStart int // first byte of the value (after '=' and blanks)
	valueEnd   int // just past the value (past a closing quote); blanks and a comment may follow
	eol        int // the '\n' ending the definition, or len(src)
	lineEnd    int // just past that '\n', or len(src)
}

// definitionSpans walks src, which must be normalised and valid (Parse
// accepted it), with Parse's own scanner so that spans agree with Parse by
// construction.
func definitionSpans(src []byte) ([]definitionSpan, error) {
	p := &parser{src: src, line: 1, file: "<input>", index: make(map[string]int)}
	var defs []definitionSpan
	for {
		p.skipBlanks()
		if p.eof() {
			return defs, nil
		}
		switch p.src[p.pos] {
		case '\n':
			p.advance()
			continue
		case '#':
			p.skipToEOL()
			continue
		}
		d := definitionSpan{lineStart: p.lineStart}
		p.skipExport()
		keyStart := p.pos
		for !p.eof() && isKeyByte(p.src[p.pos]) {
			p.pos++
		}
		d.key = string(p.src[keyStart:p.pos])
		p.skipBlanks()
		p.pos++ // '='
		afterEquals := p.pos
		p.skipBlanks()
		afterBlank := p.pos > afterEquals
		d.valueStart = p.pos
		d.valueEnd = valueEnd(src, p.pos, afterBlank)
		if _, err := p.value(d.key, afterBlank); err != nil {
			return nil, err // not reached: Parse accepted src
		}
		d.eol = p.pos
		d.lineEnd = p.pos
		if !p.eof() {
			d.lineEnd++
		}
		defs = append(defs, d)
	}
}

// valueEnd returns the offset just past the value that starts at start, by
// the rules parser.value applies: a quoted value ends after its closing
// quote, an unquoted one before blanks and a comment.
func valueEnd(src []byte, start int, afterBlank bool) int {
	if start >= len(src) {
		return start
	}
	switch q := src[start]; q {
	case '\n':
		return start
	case '#':
		if afterBlank {
			return start
		}
	case '\'', '`':
		return start + 1 + bytes.IndexByte(src[start+1:], q) + 1
	case '"':
		for i := start + 1; i < len(src); i++ {
			switch src[i] {
			case '\\':
				if i+1 < len(src) && bytes.IndexByte([]byte(`nrt\"`), src[i+1]) >= 0 {
					i++
				}
			case '"':
				return i + 1
			}
		}
		return len(src)
	}
	end := start
	for end < len(src) && src[end] != '\n' && !(src[end] == '#' && end > start && isBlank(src[end-1])) {
		end++
	}
	for end > start && isBlank(src[end-1]) {
		end--
	}
	return end
}

// normalizeWithOffsets is normalize that also returns, for every offset in
// its result (and one past the end), the offset in data it came from.
func normalizeWithOffsets(data []byte) ([]byte, []int) {
	i := 0
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		i = 3
	}
	out := make([]byte, 0, len(data)-i)
	offsets := make([]int, 0, len(data)-i+1)
	for ; i < len(data); i++ {
		offsets = append(offsets, i)
		c := data[i]
		if c == '\r' {
			if i+1 < len(data) && data[i+1] == '\n' {
				i++
			}
			c = '\n'
		}
		out = append(out, c)
	}
	offsets = append(offsets, len(data))
	return out, offsets
}

// lineEnding returns the line ending of data's first line: "\r\n" for CRLF,
// else "\n".
func lineEnding(data []byte) string {
	if i := bytes.IndexAny(data, "\r\n"); i >= 0 && data[i] == '\r' && i+1 < len(data) && data[i+1] == '\n' {
		return "\r\n"
	}
	return "\n"
}
