package dotenv

// unquoted parses an unquoted value: the rest of the line up to a comment
// (a # after a blank), without trailing blanks.
func (p *parser) unquoted(key string) (string, error) {
	start := p.pos
	for !p.eof() {
		c := p.src[p.pos]
		if c == '\n' || c == '#' && p.pos > start && isBlank(p.src[p.pos-1]) {
			break
		}
		p.pos++
	}
	end := p.pos
	for end > start && isBlank(p.src[end-1]) {
		end--
	}
	p.skipToEOL()
	if !p.expand {
		return string(p.src[start:end]), nil
	}
	comment := p.pos
	p.pos = start
	var b []byte
	for p.pos < end {
		switch c := p.src[p.pos]; {
		case c == '\\' && p.pos+1 < end && p.src[p.pos+1] == '$':
			b = append(b, '$')
			p.pos += 2
		case c == '$':
			var err error
			if b, err = p.reference(key, end, b); err != nil {
				return "", err
			}
		default:
			b = append(b, c)
			p.pos++
		}
	}
	p.pos = comment
	return string(b), nil
}

// quoted parses a value in quotes q, starting at the opening quote, and
// whatever may follow the closing quote on its line.
func (p *parser) quoted(key string, q byte) (string, error) {
	line, col := p.line, p.col()
	p.pos++
	var b []byte
	for {
		if p.eof() {
			return "", p.errorf(line, col, "unterminated %s value of key %s", quoteName(q), key)
		}
		c := p.src[p.pos]
		switch {
		case c == q:
			p.pos++
			return string(b), p.afterQuote(key)
		case q == '"' && c == '\\' && p.pos+1 < len(p.src):
			if r, ok := p.unescape(p.src[p.pos+1]); ok {
				b = append(b, r)
				p.pos += 2
				continue
			}
			b = append(b, c)
			p.pos++
		case q == '"' && c == '$' && p.expand:
			var err error
			if b, err = p.reference(key, len(p.src), b); err != nil {
				return "", err
			}
		default:
			b = append(b, c)
			p.advance()
		}
	}
}

// unescape maps the byte after a backslash in double quotes to what the
// pair stands for. Unknown escapes are kept as written, as node does.
func (p *parser) unescape(c byte) (byte, bool) {
	switch c {
	case 'n':
		return '\n', true
	case 'r':
		return '\r', true
	case 't':
		return '\t', true
	case '\\', '"':
		return c, true
	case '$':
		return '$', p.expand
	}
	return 0, false
}

// afterQuote checks that only blanks and a comment follow a closing quote.
func (p *parser) afterQuote(key string) error {
	p.skipBlanks()
	if p.eof() || p.src[p.pos] == '\n' {
		return nil
	}
	if p.src[p.pos] == '#' {
		p.skipToEOL()
		return nil
	}
	return p.errorf(p.line, p.col(), "unexpected character after closing quote of key %s", key)
}

// reference appends the expansion of the $NAME or ${NAME} at pos to b,
// reading no further than limit. A $ not followed by a name is literal.
// Names in braces may use every key character; bare names are shell names.
func (p *parser) reference(key string, limit int, b []byte) ([]byte, error) {
	i := p.pos + 1
	if i < limit && p.src[i] == '{' {
		j := i + 1
		for j < limit && isKeyByte(p.src[j]) {
			j++
		}
		if j == i+1 || j >= limit || p.src[j] != '}' {
			return nil, p.errorf(p.line, p.col(), "invalid variable reference in value of key %s", key)
		}
		p.pos = j + 1
		return append(b, p.resolve(string(p.src[i+1:j]))...), nil
	}
	j := i
	if j < limit && isNameStart(p.src[j]) {
		for j++; j < limit && isNameByte(p.src[j]); j++ {
		}
	}
	if j == i {
		p.pos++
		return append(b, '$'), nil
	}
	p.pos = j
	return append(b, p.resolve(string(p.src[i:j]))...), nil
}

// resolve returns the value of an earlier key, else Lookup's answer, else "".
func (p *parser) resolve(name string) string {
	if i, ok := p.index[name]; ok {
		return p.entries[i].Value
	}
	if p.lookup != nil {
		if v, ok := p.lookup(name); ok {
			return v
		}
	}
	return ""
}

func quoteName(q byte) string {
	switch q {
	case '\'':
		return "single-quoted"
	case '"':
		return "double-quoted"
	}
	return "backtick-quoted"
}

func isNameStart(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_' }

func isNameByte(c byte) bool { return isNameStart(c) || '0' <= c && c <= '9' }
