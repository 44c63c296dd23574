package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/slickenv/slickenv/internal/cli"
)

// TestMain makes the test binary double as the slickenv binary: testscript
// copies it onto PATH under the name "slickenv", so both the scripts and the
// Go tests of this package run the real command in a real process.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"slickenv": func() { os.Exit(cli.Main(context.Background(), cli.NewApp(), os.Args[1:])) },
	})
}

// TestScripts runs testdata/script/*.txtar. Each script gets its own HOME
// and XDG directories under $WORK and no SLICKENV_* variables.
func TestScripts(t *testing.T) {
	t.Parallel()
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			home := filepath.Join(env.WorkDir, "home")
			vars := env.Vars[:0]
			for _, kv := range env.Vars {
				if !strings.HasPrefix(kv, "SLICKENV_") {
					vars = append(vars, kv)
				}
			}
			env.Vars = vars
			env.Setenv("HOME", home)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(home, ".config"))
			env.Setenv("XDG_DATA_HOME", filepath.Join(home, ".local", "share"))
			env.Setenv("XDG_CACHE_HOME", filepath.Join(home, ".cache"))
			env.Setenv("STORE", filepath.Join(home, ".local", "share", "slickenv", "projects", "shop.db"))
			return os.MkdirAll(home, 0o755)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exitcode":    cmdExitcode,
			"stdouteq":    cmdStdoutEq,
			"jsonget":     cmdJSONGet,
			"mode":        cmdMode,
			"sleep":       cmdSleep,
			"envfile":     cmdEnvfile,
			"noplaintext": cmdNoPlaintext,
		},
	})
}

// exitcode N PROG ARGS… runs PROG like exec and checks that it exits with
// status N. Its stdout and stderr are kept for stdout/stderr/cmp.
func cmdExitcode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exitcode N program [args...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("%s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}

// stdouteq GO-QUOTED-STRING checks that the last command's stdout is
// exactly that string (e.g. stdouteq '"no newline"').
func cmdStdoutEq(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: stdouteq \"quoted\"")
	}
	want, err := strconv.Unquote(args[0])
	ts.Check(err)
	got := ts.ReadFile("stdout")
	switch {
	case neg && got == want:
		ts.Fatalf("stdout is %q", got)
	case !neg && got != want:
		ts.Fatalf("stdout is %q, want %q", got, want)
	}
}

// jsonget PATH… replaces stdout with the values at each path of the JSON
// document in stdout, one per line: strings as they are, everything else
// as compact JSON. A path is dot-separated keys and array indexes
// ("variables.0.name", "-1.seq" for the last element); "." is the whole
// document.
func cmdJSONGet(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: jsonget path...")
	}
	var doc any
	if err := json.Unmarshal([]byte(ts.ReadFile("stdout")), &doc); err != nil {
		ts.Fatalf("stdout is not JSON: %v", err)
	}
	var out strings.Builder
	for _, path := range args {
		v, err := jsonPath(doc, path)
		if err != nil {
			ts.Fatalf("%v", err)
		}
		if s, ok := v.(string); ok {
			out.WriteString(s)
		} else {
			b, _ := json.Marshal(v)
			out.Write(b)
		}
		out.WriteByte('\n')
	}
	fmt.Fprint(ts.Stdout(), out.String())
}

func jsonPath(doc any, path string) (any, error) {
	if path == "." {
		return doc, nil
	}
	v := doc
	for _, key := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			next, ok := x[key]
			if !ok {
				return nil, fmt.Errorf("json path %s: no key %q", path, key)
			}
			v = next
		case []any:
			i, err := strconv.Atoi(key)
			if i < 0 {
				i += len(x) // -1 is the last element
			}
			if err != nil || i < 0 || i >= len(x) {
				return nil, fmt.Errorf("json path %s: bad index %q (length %d)", path, key, len(x))
			}
			v = x[i]
		default:
			return nil, fmt.Errorf("json path %s: %q is not inside an object or array", path, key)
		}
	}
	return v, nil
}

// mode PERM FILE checks a file's permission bits (octal).
func cmdMode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: mode 0600 file")
	}
	want, err := strconv.ParseUint(args[0], 8, 32)
	ts.Check(err)
	fi, err := os.Stat(ts.MkAbs(args[1]))
	ts.Check(err)
	if got := fi.Mode().Perm(); got != fs.FileMode(want) {
		ts.Fatalf("%s has mode %04o, want %04o", args[1], got, want)
	}
}

// sleep DURATION pauses the script (used to age secrets past tiny policies).
func cmdSleep(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: sleep duration")
	}
	d, err := time.ParseDuration(args[0])
	ts.Check(err)
	time.Sleep(d)
}

// envfile VAR FILE sets VAR to the contents of FILE (trailing newline
// removed).
func cmdEnvfile(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: envfile VAR file")
	}
	ts.Setenv(args[0], strings.TrimSuffix(ts.ReadFile(args[1]), "\n"))
}

// noplaintext MARKER DIR… fails when any file under the directories
// contains MARKER.
func cmdNoPlaintext(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: noplaintext marker dir...")
	}
	for _, dir := range args[1:] {
		hits, n, err := filesContaining(ts.MkAbs(dir), []byte(args[0]), nil)
		ts.Check(err)
		if n == 0 {
			ts.Fatalf("no files under %s: the check would prove nothing", dir)
		}
		if len(hits) > 0 {
			ts.Fatalf("plaintext marker found in %v", hits)
		}
	}
}

// filesContaining walks root (skipping the paths in skip) and returns the
// files whose bytes contain marker, and how many files it read.
func filesContaining(root string, marker []byte, skip map[string]bool) (hits []string, n int, err error) {
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if skip[path] {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		if bytes.Contains(b, marker) {
			hits = append(hits, path)
		}
		return nil
	})
	return hits, n, err
}
