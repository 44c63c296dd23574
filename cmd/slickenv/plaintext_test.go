package main

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoPlaintextAtRest puts a unique marker into values through every
// path that handles them (set, set from stdin, import, rollback, run,
// export to a file elsewhere, get, diff --show-values), then checks that no
// file under the project, store, config or cache directories contains it,
// that no command's stderr does, and that the metadata outputs (history,
// list, status, diff, audit) do not either.
func TestNoPlaintextAtRest(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	b := make([]byte, 12)
	rand.Read(b)
	marker := "PLAINTEXT-" + hex.EncodeToString(b)
	// Values may legitimately end up outside the project: the exported
	// files and the import source live there.
	outside := t.TempDir()

	checkStderr := func(r result, args []string) {
		t.Helper()
		if strings.Contains(r.stderr, marker) {
			t.Errorf("slickenv %s: stderr contains the marker: %q", strings.Join(args, " "), r.stderr)
		}
	}
	run := func(stdin string, args ...string) string {
		t.Helper()
		r := p.run(stdin, args...)
		checkStderr(r, args)
		if r.code != 0 {
			t.Fatalf("slickenv %s: exit %d: %s", strings.Join(args, " "), r.code, r.stderr)
		}
		return r.stdout
	}
	metadataOnly := func(args ...string) {
		t.Helper()
		if out := run("", args...); strings.Contains(out, marker) {
			t.Errorf("slickenv %s: stdout contains the marker:\n%s", strings.Join(args, " "), out)
		}
	}
	importFile := filepath.Join(outside, "import.env")
	if err := os.WriteFile(importFile, []byte("IMPORTED=\""+marker+"-import\\nsecond line\"\nPLAIN="+marker+"-plain\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	run("", "set", "-m", "first", "ARGV="+marker+"-argv", "OTHER=1")
	run(marker+"-stdin\n", "set", "STDIN", "-")
	run("", "import", importFile)
	run("FROM_STDIN='"+marker+"-import-stdin'\n", "import", "-")
	run("", "set", "ARGV=changed", "STDIN=changed")
	run("", "rollback", "--to", "1", "ARGV")
	run("", "rollback", "--to", "2")
	run("", "set", "-e", "production", "PROD="+marker+"-prod")
	if out := run("", "run", "--", "printenv", "ARGV"); out != marker+"-argv\n" {
		t.Errorf("run printed %q", out)
	}
	if out := run("", "get", "-n", "STDIN"); out != marker+"-stdin" {
		t.Errorf("get printed %q", out)
	}
	run("", "export", "-o", filepath.Join(outside, "out.env"))
	run("", "export", "--format", "json", "-o", filepath.Join(outside, "out.json"))
	run("", "export", "--format", "shell")
	run("", "diff", "--show-values", "0")
	run("", "unset", "STDIN")
	// Failing commands must not echo values either.
	for _, args := range [][]string{
		{"set", "BAD KEY=" + marker},
		{"set", marker},
		{"set", "-e", "nope", "K=" + marker},
		{"get", marker},
		{"unset", marker},
	} {
		r := p.run("", args...)
		if r.code == 0 {
			t.Errorf("slickenv %s succeeded", strings.Join(args, " "))
		}
		if strings.Contains(r.stderr, marker+"-") {
			t.Errorf("slickenv %s: stderr contains a value: %q", strings.Join(args, " "), r.stderr)
		}
	}
	r := p.run("", "import", filepath.Join(outside, "missing.env"))
	checkStderr(r, []string{"import", "missing.env"})
	if err := os.WriteFile(filepath.Join(outside, "bad.env"), []byte("A="+marker+"\nB=\""+marker+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = p.run("", "import", filepath.Join(outside, "bad.env"))
	if r.code != 1 {
		t.Errorf("import bad.env: exit %d", r.code)
	}
	checkStderr(r, []string{"import", "bad.env"})

	for _, args := range [][]string{
		{"history", "--json"},
		{"history"},
		{"history", "--json", "ARGV"},
		{"list", "--json"},
		{"list"},
		{"list", "--json", "--version", "2"},
		{"status", "--json"},
		{"status", "--all", "--json"},
		{"status", "--all"},
		{"diff", "--json"},
		{"diff", "--json", "0"},
		{"diff", "0"},
		{"diff", "--json", "-e", "production", "0", "1"},
		{"audit", "--json"},
		{"audit"},
		{"audit", "verify", "--json"},
	} {
		metadataOnly(args...)
	}

	// The check can see the marker where it is supposed to be.
	if hits, _, err := filesContaining(outside, []byte(marker), nil); err != nil || len(hits) < 3 {
		t.Fatalf("marker found in %v (err %v), want the import source and both exports", hits, err)
	}
	// Nothing else under the test's directories holds it: not the store
	// (or its -wal/-shm), the identity, the config or the cache.
	hits, n, err := filesContaining(p.root, []byte(marker), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{filepath.Dir(p.storePath()), filepath.Dir(p.identityPath())} {
		if _, err := os.Stat(dir); err != nil {
			t.Errorf("expected %s to exist: %v", dir, err)
		}
	}
	if n < 3 {
		t.Fatalf("only %d files checked", n)
	}
	if len(hits) > 0 {
		t.Errorf("plaintext marker found in %v", hits)
	}
}
