package config

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ParseError is one problem found by Parse. Parse returns it directly, or
// several of them joined with errors.Join; errors.As finds the first.
type ParseError struct {
	File string // the filename given to Parse
	Line int    // 1-based line; 0 when the problem has no single place
	Key  string // dotted path of the setting, e.g. "secrets.DATABASE_URL.max_age"; "" at the top level
	Err  error
}

// Error formats the problem as "file:line: key: message".
func (e *ParseError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the underlying error.
func (e *ParseError) Unwrap() error { return e.Err }

// decoder walks a yaml.Node tree, collecting every problem it finds so that one
// run of Parse reports all of them.
type decoder struct {
	file string
	errs []*ParseError
}

// failf records a problem at n (which may be nil) under the setting path.
func (d *decoder) failf(n *yaml.Node, path, format string, args ...any) {
	d.fail(n, path, fmt.Errorf(format, args...))
}

func (d *decoder) fail(n *yaml.Node, path string, err error) {
	line := 0
	if n != nil {
		line = n.Line
	}
	d.errs = append(d.errs, &ParseError{File: d.file, Line: line, Key: path, Err: err})
}

// syntaxError turns a yaml.v3 error ("yaml: line 3: did not find ...") into
// a ParseError.
func (d *decoder) syntaxError(err error) {
	line, msg := splitLine(strings.TrimPrefix(err.Error(), "yaml: "))
	d.errs = append(d.errs, &ParseError{File: d.file, Line: line, Err: fmt.Errorf("invalid YAML: %s", msg)})
}

// splitLine splits yaml.v3's "line N: message" into N and message; line is 0
// when msg has no such prefix.
func splitLine(msg string) (line int, rest string) {
	if after, ok := strings.CutPrefix(msg, "line "); ok {
		if num, tail, ok := strings.Cut(after, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				return n, tail
			}
		}
	}
	return 0, msg
}

// resolve follows aliases to the node they name.
func resolve(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.AliasNode && i < 100; i++ {
		n = n.Alias
	}
	return n
}

// isNull reports whether n is absent or an explicit null ("", "~", "null"):
// a null value means the same as leaving the key out.
func isNull(n *yaml.Node) bool {
	n = resolve(n)
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

func kindName(n *yaml.Node) string {
	n = resolve(n)
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	default:
		return "nothing"
	}
}

// fields is a decoded mapping: its keys in file order, and key and value nodes.
type fields struct {
	path   string
	node   *yaml.Node // the mapping, or the null scalar standing for it (nil when absent)
	order  []string
	keys   map[string]*yaml.Node
	values map[string]*yaml.Node
}

// mapping decodes n as a mapping under path. allowed lists the accepted keys;
// nil accepts any key. A null n gives empty fields. ok is false (and a problem
// recorded) when n is not a mapping.
func (d *decoder) mapping(n *yaml.Node, path string, allowed []string) (f *fields, ok bool) {
	n = resolve(n)
	f = &fields{path: path, node: n, keys: map[string]*yaml.Node{}, values: map[string]*yaml.Node{}}
	if isNull(n) {
		return f, true
	}
	if n.Kind != yaml.MappingNode {
		d.failf(n, path, "expected a mapping, got %s", kindName(n))
		return f, false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			d.failf(k, path, "keys must be plain strings, got %s", kindName(k))
			continue
		}
		if k.ShortTag() == "!!merge" {
			d.failf(k, path, "merge keys (<<) are not supported; repeat the settings instead")
			continue
		}
		name := k.Value
		if allowed != nil && !slices.Contains(allowed, name) {
			d.failf(k, path, "unknown key %q%s", name, suggest(name, allowed))
			continue
		}
		if first, dup := f.keys[name]; dup {
			d.failf(k, path, "duplicate key %q (first on line %d)", name, first.Line)
			continue
		}
		f.order = append(f.order, name)
		f.keys[name] = k
		f.values[name] = v
	}
	return f, true
}

// has reports whether key is set to a non-null value.
func (f *fields) has(key string) bool { return !isNull(f.values[key]) }

// at returns the node to blame for key: its key node, or the mapping when the
// key is absent.
func (f *fields) at(key string) *yaml.Node {
	if k, ok := f.keys[key]; ok {
		return k
	}
	return f.node
}

// required decodes key as a non-empty string. When it is missing or empty it
// records "KEY is required" (unless the value was of the wrong kind, already
// reported) and returns ok false.
func (d *decoder) required(f *fields, key string) (string, bool) {
	if s := d.str(f, key); s != "" {
		return s, true
	}
	if n := f.values[key]; isNull(n) || isScalar(n) {
		d.failf(f.at(key), f.path, "%s is required", key)
	}
	return "", false
}

// str decodes key as a string; a number or boolean is taken as written.
func (d *decoder) str(f *fields, key string) string {
	n := f.values[key]
	if isNull(n) {
		return ""
	}
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		d.failf(n, joinPath(f.path, key), "expected a string, got %s", kindName(n))
		return ""
	}
	return n.Value
}

// duration decodes key with ParseDuration; set is false when key is absent or
// invalid.
func (d *decoder) duration(f *fields, key string) (v Duration, set bool) {
	n := f.values[key]
	if isNull(n) {
		return 0, false
	}
	n = resolve(n)
	if n.Kind != yaml.ScalarNode {
		d.failf(n, joinPath(f.path, key), "expected a duration such as 90d, got %s", kindName(n))
		return 0, false
	}
	v, err := ParseDuration(n.Value)
	if err != nil {
		d.fail(n, joinPath(f.path, key), err)
		return 0, false
	}
	return v, true
}

// float decodes key as a number; set is false when key is absent or invalid.
func (d *decoder) float(f *fields, key string) (v float64, set bool) {
	n := f.values[key]
	if isNull(n) {
		return 0, false
	}
	n = resolve(n)
	if n.Kind == yaml.ScalarNode {
		if v, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return v, true
		}
	}
	d.failf(n, joinPath(f.path, key), "expected a number, got %s", kindName(n))
	return 0, false
}

// list decodes key as a list of nodes; nil when absent or invalid.
func (d *decoder) list(f *fields, key string) []*yaml.Node {
	n := f.values[key]
	if isNull(n) {
		return nil
	}
	n = resolve(n)
	if n.Kind != yaml.SequenceNode {
		d.failf(n, joinPath(f.path, key), "expected a list, got %s", kindName(n))
		return nil
	}
	return n.Content
}

// strings decodes key as a list of strings; nil when absent or invalid.
func (d *decoder) strings(f *fields, key string) []string {
	items := d.list(f, key)
	if items == nil {
		return nil
	}
	out := make([]string, 0, len(items))
	for i, item := range items {
		item = resolve(item)
		if item.Kind != yaml.ScalarNode || item.ShortTag() == "!!null" {
			d.failf(item, fmt.Sprintf("%s[%d]", joinPath(f.path, key), i), "expected a string, got %s", kindName(item))
			return nil
		}
		out = append(out, item.Value)
	}
	return out
}

// suggest returns ` (did you mean "x"?)` for the allowed key closest to name,
// or "" when none is close.
func suggest(name string, allowed []string) string {
	best, bestDist := "", 3
	for _, a := range allowed {
		if d := editDistance(strings.ToLower(name), a); d < bestDist {
			best, bestDist = a, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
