package dotenv

import (
	"bytes"
	"fmt"
)

// Entry is one variable.
type Entry struct {
	Key   string
	Value string
	Line  int // 1-based line where the (winning) definition starts; 0 for entries not from a file
}

// ParseOptions controls Parse. The zero value parses without expansion and
// names the input "<input>" in errors.
type ParseOptions struct {
	Filename string                           // used in error messages; "" → "<input>"
	Expand   bool                             // expand $NAME / ${NAME} in unquoted and double-quoted values
	Lookup   func(name string) (string, bool) // for Expand: earlier keys in the same file win first, then Lookup; may be nil
}

// ParseError is returned by Parse for malformed input. Its Error method
// yields "FILE:LINE:COL: MSG". Line and Col are 1-based and Col counts bytes.
//
// A ParseError never holds any part of a value, because values are secrets:
// only positions, a key name when the key itself parsed cleanly, and a
// description.
type ParseError struct {
	File      string
	Line, Col int
	Msg       string
}

// Error implements error.
func (e *ParseError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Col, e.Msg)
}

// ValidKey reports whether name is a valid key ([A-Za-z0-9_.-]+).
func ValidKey(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if !isKeyByte(name[i]) {
			return false
		}
	}
	return true
}

// Parse parses .env data following the rules in the package documentation.
// Later duplicates win; the result is in order of FIRST appearance of each
// key, with the LAST value and the line of the last definition. Input with
// no definitions yields a nil slice.
//
// Parse stops at the first malformed definition and returns a *ParseError
// for it; data is never modified.
func Parse(data []byte, opts ParseOptions) ([]Entry, error) {
	file := opts.Filename
	if file == "" {
		file = "<input>"
	}
	p := &parser{
		src:    normalize(data),
		line:   1,
		file:   file,
		expand: opts.Expand,
		lookup: opts.Lookup,
		index:  make(map[string]int),
	}
	if err := p.parse(); err != nil {
		return nil, err
	}
	return p.entries, nil
}

// normalize returns a copy of data without a leading UTF-8 BOM and with
// CRLF and lone CR turned into LF, as node dotenv does.
func normalize(data []byte) []byte {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	out := make([]byte, 0, len(data))
	for i := 0; i < len(data); i++ {
		c := data[i]
		if c == '\r' {
			if i+1 < len(data) && data[i+1] == '\n' {
				i++
			}
			c = '\n'
		}
		out = append(out, c)
	}
	return out
}

// parser is a byte scanner over normalised input. pos only moves forward;
// line and lineStart follow it so that errors can report columns.
type parser struct {
	src       []byte
	pos       int
	line      int // line of src[pos], 1-based
	lineStart int // offset of the first byte of line
	file      string
	expand    bool
	lookup    func(string) (string, bool)
	entries   []Entry
	index     map[string]int // key → position in entries
}

func (p *parser) parse() error {
	for {
		p.skipBlanks()
		if p.eof() {
			return nil
		}
		switch p.src[p.pos] {
		case '\n':
			p.advance()
		case '#':
			p.skipToEOL()
		default:
			if err := p.definition(); err != nil {
				return err
			}
		}
	}
}

// definition parses one [export ]KEY=VALUE starting at a non-blank byte.
func (p *parser) definition() error {
	line := p.line
	p.skipExport()
	start := p.pos
	for !p.eof() && isKeyByte(p.src[p.pos]) {
		p.pos++
	}
	key := string(p.src[start:p.pos])
	// Key errors never name the key: a line without '=' is often a piece of
	// a multi-line secret that was not quoted.
	if !p.eof() {
		if c := p.src[p.pos]; c != '=' && c != '\n' && !isBlank(c) {
			return p.errorf(p.line, p.col(), "invalid character in key")
		}
	}
	if key == "" {
		return p.errorf(p.line, p.col(), "missing key before '='")
	}
	p.skipBlanks()
	if p.eof() || p.src[p.pos] != '=' {
		return p.errorf(p.line, p.col(), "expected '=' after key")
	}
	p.pos++
	afterEquals := p.pos
	p.skipBlanks()
	value, err := p.value(key, p.pos > afterEquals)
	if err != nil {
		return err
	}
	p.define(key, value, line)
	return nil
}

// skipExport consumes an "export" prefix when it is followed by blanks and
// a key; "export=1" and "export =1" define the key export.
func (p *parser) skipExport() {
	const keyword = "export"
	rest := p.src[p.pos:]
	if !bytes.HasPrefix(rest, []byte(keyword)) {
		return
	}
	i := len(keyword)
	if i >= len(rest) || !isBlank(rest[i]) {
		return
	}
	for i < len(rest) && isBlank(rest[i]) {
		i++
	}
	if i < len(rest) && isKeyByte(rest[i]) {
		p.pos += i
	}
}

// value parses what follows "KEY=" and its blanks, up to and including any
// trailing comment. afterBlank reports whether blanks preceded it, which
// makes a leading # a comment.
func (p *parser) value(key string, afterBlank bool) (string, error) {
	if p.eof() {
		return "", nil
	}
	switch c := p.src[p.pos]; c {
	case '\n':
		return "", nil
	case '#':
		if afterBlank {
			p.skipToEOL()
			return "", nil
		}
	case '\'', '"', '`':
		return p.quoted(key, c)
	}
	return p.unquoted(key)
}

func (p *parser) define(key, value string, line int) {
	if i, ok := p.index[key]; ok {
		p.entries[i].Value = value
		p.entries[i].Line = line
		return
	}
	p.index[key] = len(p.entries)
	p.entries = append(p.entries, Entry{Key: key, Value: value, Line: line})
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

// col is the 1-based byte column of pos.
func (p *parser) col() int { return p.pos - p.lineStart + 1 }

// advance moves past one byte, keeping line and lineStart in step.
func (p *parser) advance() {
	if p.src[p.pos] == '\n' {
		p.line++
		p.lineStart = p.pos + 1
	}
	p.pos++
}

func (p *parser) skipBlanks() {
	for !p.eof() && isBlank(p.src[p.pos]) {
		p.pos++
	}
}

// skipToEOL moves to the next '\n' (or the end) without consuming it.
func (p *parser) skipToEOL() {
	if i := bytes.IndexByte(p.src[p.pos:], '\n'); i >= 0 {
		p.pos += i
	} else {
		p.pos = len(p.src)
	}
}

func (p *parser) errorf(line, col int, format string, args ...any) error {
	return &ParseError{File: p.file, Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

func isBlank(c byte) bool { return c == ' ' || c == '\t' }

func isKeyByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '_' || c == '.' || c == '-'
}
