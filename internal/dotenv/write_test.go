package dotenv

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/")

// hardEntries is one representative entry set with values that trip up
// naive writers. Every key is a shell identifier so each format can use it.
func hardEntries() []Entry {
	return []Entry{
		{Key: "PLAIN", Value: "hunter2"},
		{Key: "EMPTY", Value: ""},
		{Key: "BASE64", Value: "c2VjcmV0+/=="},
		{Key: "URL", Value: "postgres://app:p%40ss@db:5432/app?sslmode=disable&x=1"},
		{Key: "DOLLAR", Value: "pa$word${HOME}"},
		{Key: "HASH", Value: "pa#ss #not-a-comment"},
		{Key: "SPACES", Value: "  padded  "},
		{Key: "SINGLE", Value: "it's"},
		{Key: "DOUBLE", Value: `say "hi"`},
		{Key: "BACKTICK", Value: "`cmd`"},
		{Key: "ALL_QUOTES", Value: `'"` + "`$"},
		{Key: "BACKSLASH", Value: `C:\path\n`},
		{Key: "MULTILINE", Value: "-----BEGIN KEY-----\nMIIB\n-----END KEY-----\n"},
		{Key: "CRLF", Value: "a\r\nb"},
		{Key: "TAB", Value: "a\tb"},
		{Key: "UNICODE", Value: "héllo 日本 🔑"},
		{Key: "YAML_BOOL", Value: "true"},
		{Key: "YAML_NUMBER", Value: "1e3"},
		{Key: "YAML_NULL", Value: "~"},
		{Key: "YAML_DASH", Value: "- item"},
		{Key: "EQUALS", Value: "a=b"},
		{Key: "HTML", Value: `<a href="x">&amp;</a>`},
		{Key: "CONTROL", Value: "bell\a"},
	}
}

func goldenExt(f Format) string {
	switch f {
	case FormatDotenv:
		return ".env"
	case FormatShell:
		return ".sh"
	}
	return "." + string(f)
}

// TestWriteGolden writes hardEntries in every format (for docker, only the
// entries docker can hold) and compares with testdata/entries.*; run with
// -update to regenerate.
func TestWriteGolden(t *testing.T) {
	for _, f := range Formats() {
		t.Run(string(f), func(t *testing.T) {
			entries := hardEntries()
			if f == FormatDocker {
				entries = representable(f, entries)
			}
			var buf bytes.Buffer
			if err := Write(&buf, f, entries); err != nil {
				t.Fatalf("Write: %v", err)
			}
			path := filepath.Join("testdata", "entries"+goldenExt(f))
			if *update {
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(buf.Bytes(), want) {
				t.Errorf("Write(%s) differs from %s:\n got:\n%s\nwant:\n%s", f, path, buf.Bytes(), want)
			}
		})
	}
}

// representable returns the entries that f can write.
func representable(f Format, entries []Entry) []Entry {
	var out []Entry
	for _, e := range entries {
		if Write(new(bytes.Buffer), f, []Entry{e}) == nil {
			out = append(out, e)
		}
	}
	return out
}

func TestWriteEmpty(t *testing.T) {
	want := map[Format]string{FormatDotenv: "", FormatJSON: "{}\n", FormatYAML: "{}\n", FormatShell: "", FormatDocker: ""}
	for _, f := range Formats() {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, f, nil); err != nil {
				t.Fatalf("Write: %v", err)
			}
			if buf.String() != want[f] {
				t.Errorf("Write(%s, nil) = %q, want %q", f, buf.String(), want[f])
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	long := strings.Repeat("S", 65536-len("K=\n")+1)
	tests := []struct {
		name    string
		format  Format
		entries []Entry
		want    string
	}{
		{"unknown format", "xml", nil, `unknown format "xml" (valid formats: dotenv, json, yaml, shell, docker)`},
		{"empty key", FormatDotenv, []Entry{{Key: "", Value: marker}}, `invalid key "": keys must match [A-Za-z0-9_.-]+`},
		{"bad key json", FormatJSON, []Entry{{Key: "A B", Value: marker}}, `invalid key "A B": keys must match [A-Za-z0-9_.-]+`},
		{"duplicate key", FormatYAML, []Entry{{Key: "A", Value: marker}, {Key: "A", Value: "x"}}, "duplicate key A"},
		{"shell dotted key", FormatShell, []Entry{{Key: "A.B", Value: marker}}, "shell format needs keys that are shell identifiers ([A-Za-z_][A-Za-z0-9_]*) (key A.B)"},
		{"shell digit key", FormatShell, []Entry{{Key: "9A", Value: marker}}, "shell format needs keys that are shell identifiers ([A-Za-z_][A-Za-z0-9_]*) (key 9A)"},
		{"shell nul", FormatShell, []Entry{{Key: "OK", Value: "x"}, {Key: "K", Value: marker + "\x00"}}, "shell format cannot represent a value containing a NUL byte (key K)"},
		{"docker newline", FormatDocker, []Entry{{Key: "FOO", Value: marker + "\n"}}, "docker format cannot represent a value containing a newline (key FOO)"},
		{"docker trailing cr", FormatDocker, []Entry{{Key: "FOO", Value: marker + "\r"}}, "docker format cannot represent a value ending in a carriage return (key FOO)"},
		{"docker nul", FormatDocker, []Entry{{Key: "FOO", Value: "\x00" + marker}}, "docker format cannot represent a value containing a NUL byte (key FOO)"},
		{"docker invalid utf-8", FormatDocker, []Entry{{Key: "FOO", Value: marker + "\xff"}}, "docker format cannot represent a value that is not valid UTF-8 (key FOO)"},
		{"docker too long", FormatDocker, []Entry{{Key: "K", Value: long}}, "docker format cannot represent a value this long (key K)"},
		{"json invalid utf-8", FormatJSON, []Entry{{Key: "FOO", Value: marker + "\xc3"}}, "json format cannot represent a value that is not valid UTF-8 (key FOO)"},
		{"yaml invalid utf-8", FormatYAML, []Entry{{Key: "FOO", Value: "\xed\xa0\x80" + marker}}, "yaml format cannot represent a value that is not valid UTF-8 (key FOO)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Write(&buf, tt.format, tt.entries)
			if err == nil {
				t.Fatalf("Write succeeded, want error %q", tt.want)
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), marker) || strings.Contains(err.Error(), "SS") {
				t.Errorf("error %q leaks value text", err)
			}
			if buf.Len() != 0 {
				t.Errorf("Write wrote %d bytes before failing", buf.Len())
			}
		})
	}
}

func TestWriteDockerLineLimit(t *testing.T) {
	fits := strings.Repeat("v", 65536-len("K=\n"))
	var buf bytes.Buffer
	if err := Write(&buf, FormatDocker, []Entry{{Key: "K", Value: fits}}); err != nil {
		t.Fatalf("Write of the longest docker line: %v", err)
	}
	got, err := readDockerEnvFile(buf.Bytes())
	if err != nil || len(got) != 1 || got[0].Value != fits {
		t.Fatalf("docker reader did not read back the longest line: %v", err)
	}
	if _, err := readDockerEnvFile([]byte("K=" + fits + "v\n")); err == nil {
		t.Fatal("docker reader accepted a line one byte longer; the limit in writeDocker is wrong")
	}
}

func TestFormats(t *testing.T) {
	for _, f := range Formats() {
		t.Run(string(f), func(t *testing.T) {
			got, err := ParseFormat(string(f))
			if err != nil || got != f {
				t.Errorf("ParseFormat(%q) = %q, %v", f, got, err)
			}
		})
	}
	for _, name := range []string{"", "JSON", "env", "yml", "sh"} {
		t.Run("unknown "+name, func(t *testing.T) {
			_, err := ParseFormat(name)
			if err == nil || !strings.Contains(err.Error(), "dotenv, json, yaml, shell, docker") {
				t.Errorf("ParseFormat(%q) error = %v, want one listing the formats", name, err)
			}
		})
	}
	fs := Formats()
	fs[0] = "mutated"
	if Formats()[0] != FormatDotenv {
		t.Error("Formats returns a shared slice")
	}
}
