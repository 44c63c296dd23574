package dotenv

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"unicode/utf8"
)

// errorMessage matches every message Parse may produce. Anything else could
// be leaking input text.
const errorMessage = `^(invalid character in key|missing key before '='|expected '=' after key|` +
	`(unterminated (single|double|backtick)-quoted value|unexpected character after closing quote|` +
	`invalid variable reference in value) of key [A-Za-z0-9_.-]+)$`

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"", "A=1", "export A=1\nB='x'\nC=\"y\\n\"\nD=`z`", "A=pa#ss #c", "A=\"multi\nline\"",
		"A=1\r\nB=2\r", "\xef\xbb\xbfA=1", "A", "=x", "A='", "A=\"x\" y", "A=$B ${C} \\$D",
		"A=\"${B}\"\nB=${A", "export", "export =1", "A=\"\\", "# c\n\n  A = ' v ' # c",
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}
	golden, _ := filepath.Glob(filepath.Join("testdata", "entries.*"))
	for _, path := range golden {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, false)
	}
	validMessage := regexp.MustCompile(errorMessage)
	lookup := func(name string) (string, bool) { return "<" + name + ">", len(name)%2 == 0 }
	f.Fuzz(func(t *testing.T, data []byte, expand bool) {
		entries, err := Parse(data, ParseOptions{Expand: expand, Lookup: lookup})
		if err != nil {
			var perr *ParseError
			if !errors.As(err, &perr) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			lines := bytes.Count(normalize(data), []byte("\n")) + 1
			if perr.Line < 1 || perr.Line > lines || perr.Col < 1 || perr.Col > len(data)+1 {
				t.Fatalf("error position %d:%d outside the input", perr.Line, perr.Col)
			}
			if !validMessage.MatchString(perr.Msg) {
				t.Fatalf("unexpected error message %q", perr.Msg)
			}
			return
		}
		seen := make(map[string]bool)
		for _, e := range entries {
			if !ValidKey(e.Key) || seen[e.Key] || e.Line < 1 {
				t.Fatalf("bad entry %q (line %d)", e.Key, e.Line)
			}
			seen[e.Key] = true
		}
		var out bytes.Buffer
		if err := Write(&out, FormatDotenv, entries); err != nil {
			t.Fatalf("Write of parsed entries: %v", err)
		}
		again, err := Parse(out.Bytes(), ParseOptions{})
		if err != nil {
			t.Fatalf("Parse(Write(Parse(%q))): %v", data, err)
		}
		checkSame(t, "dotenv", again, entries)
	})
}

func FuzzRoundTrip(f *testing.F) {
	for _, seed := range []string{
		"", "plain", " lead", "trail ", "it's", `"`, "`", "'\"`", "#", "a #b", "$X", "${X}", `\$X`,
		"=", `\`, `\n`, "\n", "\r", "\r\n", "\t", "\x00", "\xff", "é日🔑", "\u2028", "\ufeff", "true", "- x",
		"-----BEGIN KEY-----\nabc\n-----END KEY-----\n",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, value string) {
		// Neighbours catch values that swallow or bleed into other lines.
		entries := []Entry{{Key: "A", Value: value}, {Key: "B", Value: "b"}, {Key: "C", Value: value}}

		got, err := Parse(write(t, FormatDotenv, entries), ParseOptions{})
		if err != nil {
			t.Fatalf("Parse(Write(%q)): %v", value, err)
		}
		checkSame(t, "dotenv", got, entries)

		if !utf8.ValidString(value) {
			return
		}
		var fromJSON map[string]string
		if err := json.Unmarshal(write(t, FormatJSON, entries), &fromJSON); err != nil {
			t.Fatalf("json: %v", err)
		}
		if fromJSON["A"] != value || fromJSON["C"] != value {
			t.Fatalf("json: wrote %q, read back %q", value, fromJSON["A"])
		}
		checkSame(t, "yaml", decodeYAML(t, write(t, FormatYAML, entries)), entries)

		var docker bytes.Buffer
		if Write(&docker, FormatDocker, entries) == nil {
			fromDocker, err := readDockerEnvFile(docker.Bytes())
			if err != nil {
				t.Fatalf("docker: %v", err)
			}
			checkSame(t, "docker", fromDocker, entries)
		}
	})
}
