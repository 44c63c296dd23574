package dotenv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// hardPieces returns the fragments random values are mostly built from.
func hardPieces() []string {
	return []string{
		"\n", "\r", "\r\n", "\t", " ", "  ", "'", `"`, "`", "#", " #", "$", "$A", "${A}", `\$`,
		"=", `\`, `\n`, `\"`, "export ", "é", "日本", "🔑", "\u2028", "\u0085", "\ufeff", "\x00", "\x7f",
		"a", "Z", "0", "-", ":", "true", "null", "~", "- ", ": ", "{", "[", "&", "*", "!", "%", "@",
	}
}

// valueGen generates random values.
type valueGen struct {
	r      *rand.Rand
	pieces []string
}

func newValueGen(seed uint64) *valueGen {
	return &valueGen{r: rand.New(rand.NewPCG(seed, seed)), pieces: hardPieces()}
}

// value returns a random string. Half are built from hardPieces, a quarter
// are random valid UTF-8, and (with allowInvalid) a quarter are random
// bytes, usually invalid UTF-8.
func (g *valueGen) value(allowInvalid bool) string {
	r := g.r
	n := r.IntN(12)
	if r.IntN(8) == 0 {
		n = r.IntN(200) // long enough for encoders that fold lines
	}
	var b strings.Builder
	switch mode := r.IntN(4); {
	case mode < 2:
		for range n {
			b.WriteString(g.pieces[r.IntN(len(g.pieces))])
		}
	case mode == 2 || !allowInvalid:
		for range n {
			var c rune
			switch r.IntN(3) {
			case 0:
				c = rune(r.IntN(0x80))
			case 1:
				c = rune(r.IntN(0x800))
			default:
				c = rune(r.IntN(unicode.MaxRune + 1))
			}
			if !utf8.ValidRune(c) {
				c = utf8.RuneError
			}
			b.WriteRune(c)
		}
	default:
		for range n {
			b.WriteByte(byte(r.IntN(256)))
		}
	}
	return b.String()
}

// entries returns n entries with distinct shell-identifier keys.
func (g *valueGen) entries(n int, allowInvalid bool) []Entry {
	entries := make([]Entry, n)
	for i := range entries {
		entries[i] = Entry{Key: fmt.Sprintf("K%d", i), Value: g.value(allowInvalid)}
	}
	return entries
}

func values(entries []Entry) []string {
	out := make([]string, len(entries))
	for i, e := range entries {
		out[i] = e.Value
	}
	return out
}

func checkSame(t *testing.T, format string, got, want []Entry) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: read back %d entries, wrote %d", format, len(got), len(want))
	}
	for i := range want {
		if got[i].Key != want[i].Key || got[i].Value != want[i].Value {
			t.Errorf("%s: entry %d: wrote %s=%q, read back %s=%q", format, i, want[i].Key, want[i].Value, got[i].Key, got[i].Value)
		}
	}
}

func write(t *testing.T, f Format, entries []Entry) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := Write(&buf, f, entries); err != nil {
		t.Fatalf("Write(%s): %v", f, err)
	}
	return buf.Bytes()
}

func TestRoundTripDotenv(t *testing.T) {
	g := newValueGen(1)
	for round := range 200 {
		entries := g.entries(50, true)
		out := write(t, FormatDotenv, entries)
		got, err := Parse(out, ParseOptions{})
		if err != nil {
			t.Fatalf("round %d: Parse(Write(%q)): %v", round, values(entries), err)
		}
		checkSame(t, "dotenv", got, entries)
		for i, e := range got {
			if e.Line < 1 || i > 0 && e.Line <= got[i-1].Line {
				t.Fatalf("round %d: entry %d has line %d after line %d", round, i, e.Line, got[i-1].Line)
			}
		}
	}
}

// TestRoundTripDotenvExpandSafe checks the promise that values
// with $ are single-quoted, so readers that expand leave them alone,
// unless they need double quotes for another reason.
func TestRoundTripDotenvExpandSafe(t *testing.T) {
	g := newValueGen(3)
	for range 2000 {
		v := g.value(true)
		if strings.ContainsFunc(v, func(r rune) bool { return r == '\'' || r < 0x20 || r == 0x7f }) {
			continue
		}
		out := write(t, FormatDotenv, []Entry{{Key: "K", Value: v}})
		got, err := Parse(out, ParseOptions{Expand: true, Lookup: func(string) (string, bool) { return "EXPANDED", true }})
		if err != nil || got[0].Value != v {
			t.Fatalf("Write(%q) = %q, with Expand read back %#v, %v", v, out, got, err)
		}
	}
}

func TestRoundTripJSON(t *testing.T) {
	g := newValueGen(5)
	for range 100 {
		entries := g.entries(50, false)
		out := write(t, FormatJSON, entries)
		dec := json.NewDecoder(bytes.NewReader(out))
		var got []Entry
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			t.Fatalf("JSON does not start an object: %v %v", tok, err)
		}
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			k, _ := tok.(string)
			var v string
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			got = append(got, Entry{Key: k, Value: v})
		}
		checkSame(t, "json", got, entries)
	}
}

func TestRoundTripYAML(t *testing.T) {
	g := newValueGen(7)
	keyBytes := "abcXYZ019_.-"
	for range 100 {
		entries := g.entries(50, false)
		seen := map[string]bool{}
		for i := range entries {
			// YAML's danger lies in keys too: "-", ".5", "true" and friends.
			if g.r.IntN(2) == 0 {
				k := []byte(fmt.Sprintf("%d", i))
				for range g.r.IntN(4) {
					k = append(k, keyBytes[g.r.IntN(len(keyBytes))])
				}
				if g.r.IntN(2) == 0 {
					k = append([]byte{keyBytes[g.r.IntN(len(keyBytes))]}, k...)
				}
				if !seen[string(k)] {
					entries[i].Key = string(k)
				}
			}
			seen[entries[i].Key] = true
		}
		// Generated keys all hold digits, so these cannot collide.
		entries = append(entries, Entry{Key: "-", Value: "-"}, Entry{Key: "true", Value: "yes"},
			Entry{Key: "null", Value: ".inf"}, Entry{Key: "0x1F", Value: "0o17"}, Entry{Key: "1.5e3", Value: "2001-01-01"})
		out := write(t, FormatYAML, entries)
		checkSame(t, "yaml", decodeYAML(t, out), entries)
	}
}

// decodeYAML reads a mapping of strings, failing on any non-string scalar.
func decodeYAML(t *testing.T, data []byte) []Entry {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatalf("yaml.Unmarshal(%q): %v", data, err)
	}
	m := doc.Content[0]
	if m.Kind != yaml.MappingNode {
		t.Fatalf("YAML document is not a mapping: %q", data)
	}
	var got []Entry
	for i := 0; i < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		if k.ShortTag() != "!!str" || v.ShortTag() != "!!str" {
			t.Fatalf("YAML %q: %s: %s not read back as strings", data, k.Value, v.ShortTag())
		}
		got = append(got, Entry{Key: k.Value, Value: v.Value})
	}
	return got
}

// TestRoundTripShell sources the output in real shells and prints each
// variable back.
func TestRoundTripShell(t *testing.T) {
	shells := []string{"bash"}
	for _, sh := range []string{"sh", "dash", "zsh"} {
		if _, err := exec.LookPath(sh); err == nil {
			shells = append(shells, sh)
		}
	}
	g := newValueGen(9)
	entries := append(hardEntries(), g.entries(300, true)...)
	for i := range entries {
		entries[i].Value = strings.ReplaceAll(entries[i].Value, "\x00", "")
	}
	path := filepath.Join(t.TempDir(), "vars.sh")
	if err := os.WriteFile(path, write(t, FormatShell, entries), 0o600); err != nil {
		t.Fatal(err)
	}
	var script strings.Builder
	script.WriteString(". \"$1\"\n")
	for _, e := range entries {
		fmt.Fprintf(&script, "printf '%%s\\0' \"$%s\"\n", e.Key)
	}
	for _, sh := range shells {
		t.Run(sh, func(t *testing.T) {
			cmd := exec.Command(sh, "-c", script.String(), sh, path)
			cmd.Env = append(os.Environ(), "LC_ALL=C")
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%s: %v", sh, err)
			}
			fields := strings.Split(string(out), "\x00")
			got := make([]Entry, len(fields)-1)
			for i := range got {
				got[i] = Entry{Key: entries[i].Key, Value: fields[i]}
			}
			checkSame(t, sh, got, entries)
		})
	}
}

// readDockerEnvFile reads an env file the way docker run --env-file does
// (docker/cli pkg/kvfile): lines by bufio.Scanner, leading whitespace
// dropped, # lines skipped, the value is everything after the first =.
func readDockerEnvFile(data []byte) ([]Entry, error) {
	var out []Entry
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if !utf8.Valid(sc.Bytes()) {
			return nil, fmt.Errorf("invalid utf8")
		}
		line := strings.TrimLeftFunc(sc.Text(), unicode.IsSpace)
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("bad line")
		}
		out = append(out, Entry{Key: k, Value: v})
	}
	return out, sc.Err()
}

func TestRoundTripDocker(t *testing.T) {
	g := newValueGen(11)
	for range 100 {
		entries := representable(FormatDocker, g.entries(50, true))
		got, err := readDockerEnvFile(write(t, FormatDocker, entries))
		if err != nil {
			t.Fatal(err)
		}
		checkSame(t, "docker", got, entries)
	}
}
