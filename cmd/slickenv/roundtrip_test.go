package main

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// roundTripValues are values that break naive .env handling.
var roundTripValues = []string{
	"",
	" ",
	"plain",
	"  leading spaces",
	"trailing spaces  ",
	"  both  ",
	"\ttab lead",
	"tab\tinside",
	"line1\nline2",
	"trailing newline\n",
	"\n",
	"\n\n",
	"\nleading newline",
	"multi\n\n\nblank lines\n",
	"crlf\r\nline\r\n",
	"\r",
	"cr only\rinside",
	`double "quotes"`,
	`single 'quotes'`,
	"back`ticks`",
	"all '\" ` mixed",
	`"starts with a double quote`,
	`'starts with a single quote`,
	"`starts with a backtick",
	`ends with a double quote"`,
	`"fully double quoted"`,
	`'fully single quoted'`,
	"`fully backticked`",
	`"`,
	`'`,
	"`",
	`""`,
	`''`,
	"#",
	"#hash at start",
	"a #comment-like tail",
	"pa#ss",
	"$",
	"$HOME",
	"${HOME}",
	"$(whoami)",
	"cost: $5 and ${NOT_A_VAR:-x}",
	"=",
	"a=b=c",
	"==leading equals",
	`\`,
	`back\slash`,
	`\n literal backslash-n`,
	`\\double backslash`,
	`trailing backslash\`,
	`\"escaped quote\"`,
	`\'`,
	"unicode: héllo wörld ✓ 日本語 🔑",
	"\u00a0non-breaking space\u00a0",
	"\u200bzero width",
	"export X=1",
	"X=1\nY=2",
	"mixed 'single' and \"double\" on\nlines #with $vars \\ and = signs\r\n",
	"-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n+/=\n-----END PRIVATE KEY-----\n",
	strings.Repeat("long value ", 1000),
}

// randomValues returns deterministic random strings over an alphabet of
// troublesome characters.
func randomValues(n int) []string {
	alphabet := []string{"a", "Z", "0", " ", "\t", "\n", "\r", "\r\n", `"`, "'", "`", "#", "$", "{", "}", "=", `\`, "é", "🔑", ":", "-", "export "}
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for range rng.IntN(24) {
			b.WriteString(alphabet[rng.IntN(len(alphabet))])
		}
		out[i] = b.String()
	}
	return out
}

// TestRoundTrip checks that values survive, byte for byte: set from stdin
// (--raw) then get -n; set from argv; export then import into another
// environment; export --format json, yaml and shell.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	values := append(append([]string(nil), roundTripValues...), randomValues(40)...)
	key := func(i int) string { return fmt.Sprintf("V%03d", i) }
	want := map[string]string{}
	for i, v := range values {
		want[key(i)] = v
	}

	// stdin --raw, then get -n: byte-identical.
	for i, v := range roundTripValues {
		p.mustRun(v, "set", "--raw", key(i), "-")
		if got := p.mustRun("", "get", "-n", key(i)); got != v {
			t.Errorf("set --raw %s - then get -n: %q, want %q", key(i), got, v)
		}
	}
	// argv: all of them in one version (random ones too).
	args := []string{"set", "-e", "staging"}
	for i, v := range values {
		args = append(args, key(i)+"="+v)
	}
	p.mustRun("", args...)
	checkJSON(t, "staging (set from argv)", p.mustRun("", "export", "-e", "staging", "--format", "json"), want)
	if got := p.mustRun("", "get", "-n", "-e", "staging", key(len(values)-1)); got != values[len(values)-1] {
		t.Errorf("get -n %s = %q, want %q", key(len(values)-1), got, values[len(values)-1])
	}
	// Without --raw, one trailing newline (LF or CRLF) is dropped, and only one.
	for _, tc := range []struct{ in, want string }{
		{"v\n", "v"}, {"v\r\n", "v"}, {"v\n\n", "v\n"}, {"v\r\n\r\n", "v\r\n"}, {"v\r", "v\r"}, {"v", "v"}, {"\n", ""},
	} {
		p.mustRun(tc.in, "set", "TRIM", "-")
		if got := p.mustRun("", "get", "-n", "TRIM"); got != tc.want {
			t.Errorf("set TRIM - with %q: got %q, want %q", tc.in, got, tc.want)
		}
	}
	p.mustRun("", "unset", "TRIM")

	// dotenv export → import into production: byte-identical.
	for _, src := range []string{"development", "staging"} {
		dotenv := p.mustRun("", "export", "-e", src)
		p.mustRun("", "rollback", "-e", "production", "--to", "0")
		if r := p.run(dotenv, "import", "-e", "production", "-"); r.code != 0 {
			t.Fatalf("import of the export of %s: exit %d: %s\n%s", src, r.code, r.stderr, dotenv)
		}
		exported := want
		if src == "development" {
			exported = map[string]string{}
			for i, v := range roundTripValues {
				exported[key(i)] = v
			}
		}
		checkJSON(t, "production (imported from "+src+")", p.mustRun("", "export", "-e", "production", "--format", "json"), exported)
		// The export of the import is the same file.
		if again := p.mustRun("", "export", "-e", "production"); again != dotenv {
			t.Errorf("export → import → export differs for %s", src)
		}
	}
	for i, v := range values {
		if i%7 != 0 { // get -n spot checks; the JSON check above covers all
			continue
		}
		if got := p.mustRun("", "get", "-n", "-e", "production", key(i)); got != v {
			t.Errorf("production %s = %q, want %q", key(i), got, v)
		}
	}
	// An export written with -o imports back too.
	file := filepath.Join(t.TempDir(), "staging.env")
	p.mustRun("", "export", "-e", "staging", "-o", file)
	p.mustRun("", "import", "-e", "production", "--prune", file)
	checkJSON(t, "production (imported from a file)", p.mustRun("", "export", "-e", "production", "--format", "json"), want)

	// yaml decodes to the same values.
	var fromYAML map[string]string
	if err := yaml.Unmarshal([]byte(p.mustRun("", "export", "-e", "staging", "--format", "yaml")), &fromYAML); err != nil {
		t.Fatalf("export --format yaml does not parse: %v", err)
	}
	compare(t, "yaml", fromYAML, want)

	// shell: sourcing it sets the same values.
	if _, err := exec.LookPath("sh"); err == nil {
		script := filepath.Join(t.TempDir(), "env.sh")
		p.mustRun("", "export", "-e", "staging", "--format", "shell", "-o", script)
		// Print each variable NUL-terminated so that every byte counts.
		var printf strings.Builder
		printf.WriteString(". " + script + "\n")
		for i := range values {
			fmt.Fprintf(&printf, "printf '%%s\\0' \"$%s\"\n", key(i))
		}
		out, err := exec.Command("sh", "-c", printf.String()).Output()
		if err != nil {
			t.Fatalf("sourcing the shell export: %v", err)
		}
		got := map[string]string{}
		for i, v := range strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00") {
			got[key(i)] = v
		}
		compare(t, "shell", got, want)
	}
}

func checkJSON(t *testing.T, what, out string, want map[string]string) {
	t.Helper()
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%s: export --format json: %v", what, err)
	}
	compare(t, what, got, want)
}

func compare(t *testing.T, what string, got, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if g, ok := got[k]; !ok {
			t.Errorf("%s: %s missing", what, k)
		} else if g != v {
			t.Errorf("%s: %s = %q, want %q", what, k, g, v)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("%s: unexpected %s", what, k)
		}
	}
}
