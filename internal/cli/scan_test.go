package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/slickenv/slickenv/internal/store"
	"github.com/slickenv/slickenv/internal/store/sqlstore"
)

// scanEnv is a HOME with XDG directories, shared by the commands of a test.
type scanEnv struct {
	t    *testing.T
	vars map[string]string
}

func newScanEnv(t *testing.T) *scanEnv {
	home := t.TempDir()
	return &scanEnv{t: t, vars: map[string]string{
		"HOME":            home,
		"XDG_CONFIG_HOME": filepath.Join(home, ".config"),
		"XDG_DATA_HOME":   filepath.Join(home, ".local", "share"),
	}}
}

// run executes the CLI in dir like Main does, with the scan command
// registered whether or not root.go registers it yet.
func (e *scanEnv) run(dir string, args ...string) (code int, stdout, stderr string) {
	e.t.Helper()
	var out, errb bytes.Buffer
	a := &App{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return e.vars[k] }, Wd: dir}
	defer a.Close()
	root := newRootCommand(a)
	if c, _, err := root.Find([]string{"scan"}); err != nil || c == root {
		root.AddCommand(newScanCommand(a))
	}
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errb)
	cmd, err := root.ExecuteContextC(context.Background())
	if err != nil {
		if isCobraUsage(err, cmd) {
			err = &usageError{msg: err.Error()}
		}
		printError(&errb, err)
	}
	return ExitCode(err), out.String(), errb.String()
}

func gitIn(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=Alice", "GIT_AUTHOR_EMAIL=alice@example.com", "GIT_COMMITTER_NAME=Alice", "GIT_COMMITTER_EMAIL=alice@example.com")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

const (
	cliOldKey = "sk_live_OLDoldOLD1234567890abcDEF"
	cliNewKey = "sk_live_NEWnewNEW0987654321xyzUVW"
	cliAWS    = "AKIAZ5WQ3RJX2N7TLMPE"
)

func TestScanKnownValuesLiveRetired(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	e := newScanEnv(t)
	dir := t.TempDir()
	gitIn(t, dir, "init", "-q", "-b", "main")
	if code, _, stderr := e.run(dir, "init", "--project", "shop"); code != 0 {
		t.Fatalf("init: %d %s", code, stderr)
	}
	for _, v := range []string{cliOldKey, cliNewKey} {
		if code, _, stderr := e.run(dir, "set", "-e", "production", "STRIPE_SECRET_KEY="+v); code != 0 {
			t.Fatalf("set: %d %s", code, stderr)
		}
	}
	os.WriteFile(filepath.Join(dir, "old.env"), []byte("STRIPE="+cliOldKey+"\n"), 0o644)
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "old")
	os.Remove(filepath.Join(dir, "old.env"))
	os.WriteFile(filepath.Join(dir, "new.env"), []byte("# config\nSTRIPE="+cliNewKey+"\n"), 0o644)
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "-q", "-m", "new")

	code, stdout, stderr := e.run(dir, "scan", "--history", "--format", "json")
	if code != ExitFindings {
		t.Fatalf("exit %d, want 7; stderr %s", code, stderr)
	}
	var rep struct {
		Findings []struct {
			Rule, Variable, Environment, Status, RotateCommand, Path, Commit, Secret string
			Line                                                                     int
		}
		Summary struct {
			KnownValues int `json:"known_values"`
		}
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if len(rep.Findings) != 2 {
		t.Fatalf("findings %+v, want 2", rep.Findings)
	}
	live, retired := rep.Findings[0], rep.Findings[1]
	if live.Status != "live" || live.Path != "new.env" || live.Line != 2 || live.Variable != "STRIPE_SECRET_KEY" || live.Environment != "production" || live.Commit == "" {
		t.Errorf("live finding %+v", live)
	}
	if !strings.Contains(stdout, `"rotate_command": "slickenv rotate STRIPE_SECRET_KEY -e production"`) {
		t.Error("no rotate command for the live value")
	}
	if retired.Status != "retired" || retired.Path != "old.env" {
		t.Errorf("retired finding %+v", retired)
	}
	if strings.Contains(stdout, cliOldKey) || strings.Contains(stdout, cliNewKey) {
		t.Error("JSON report shows a secret in full")
	}

	// The text report says the same, redacted.
	code, stdout, _ = e.run(dir, "scan", "--history")
	if code != ExitFindings || !strings.Contains(stdout, "STRIPE_SECRET_KEY (production) is LIVE: rotate now: slickenv rotate STRIPE_SECRET_KEY -e production") ||
		!strings.Contains(stdout, "retired: rotated away on") || strings.Contains(stdout, cliNewKey) {
		t.Errorf("text report:\n%s", stdout)
	}
	// Working tree: only the live one is still there.
	code, stdout, _ = e.run(dir, "scan", "--format", "json")
	if code != ExitFindings || strings.Count(stdout, `"rule": "known-value"`) != 1 {
		t.Errorf("tree scan:\n%s", stdout)
	}

	// Each scan audited exactly once, without values.
	st, err := sqlstore.OpenSQLite(context.Background(), filepath.Join(e.vars["XDG_DATA_HOME"], "slickenv", "projects", "shop.db"), sqlstore.SQLiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	entries, err := st.Audit(context.Background(), "shop", store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	scans := 0
	for _, en := range entries {
		if en.Action == "scan" {
			scans++
			if bytes.Contains(en.Detail, []byte("OLDold")) || bytes.Contains(en.Detail, []byte("NEWnew")) {
				t.Error("audit entry holds a value")
			}
		}
	}
	if scans != 3 {
		t.Errorf("%d scan audit entries, want 3", scans)
	}
}

func TestScanWithoutProject(t *testing.T) {
	e := newScanEnv(t)
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "creds.txt"), []byte("aws = "+cliAWS+"\n"), 0o644)
	code, stdout, stderr := e.run(dir, "scan")
	if code != ExitFindings || !strings.Contains(stdout, "aws-access-key") || !strings.Contains(stdout, "known-value detection skipped") {
		t.Errorf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	if strings.Contains(stdout, cliAWS) {
		t.Error("secret printed in full")
	}
	if code, stdout, _ := e.run(dir, "scan", "--redact=false"); code != ExitFindings || !strings.Contains(stdout, cliAWS) {
		t.Error("--redact=false does not show the secret")
	}
	if code, _, _ := e.run(dir, "scan", "--exit-code", "1"); code != 1 {
		t.Errorf("--exit-code 1: exit %d", code)
	}
	if code, _, _ := e.run(dir, "scan", "--exit-code", "0"); code != 0 {
		t.Errorf("--exit-code 0: exit %d", code)
	}
	report := filepath.Join(t.TempDir(), "out.sarif")
	code, stdout, _ = e.run(dir, "scan", "--format", "sarif", "--report-path", report)
	data, _ := os.ReadFile(report)
	if code != ExitFindings || !strings.Contains(stdout, "1 finding;") || !strings.Contains(string(data), `"version": "2.1.0"`) {
		t.Errorf("sarif report: exit %d, %s\n%s", code, stdout, data)
	}
	// A baseline made from that JSON report silences the finding.
	base := filepath.Join(t.TempDir(), "base.json")
	e.run(dir, "scan", "--format", "json", "--report-path", base)
	if code, stdout, _ := e.run(dir, "scan", "--baseline", base); code != 0 || !strings.Contains(stdout, "1 in the baseline") {
		t.Errorf("with baseline: exit %d\n%s", code, stdout)
	}
	clean := t.TempDir()
	os.WriteFile(filepath.Join(clean, "main.go"), []byte("package main\n"), 0o644)
	if code, stdout, _ := e.run(clean, "scan"); code != 0 || !strings.Contains(stdout, "no secrets found") {
		t.Errorf("clean: exit %d\n%s", code, stdout)
	}
}

func TestScanUsageAndHook(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	e := newScanEnv(t)
	dir := t.TempDir()
	for _, args := range [][]string{
		{"scan", "--history", "--staged"},
		{"scan", "--since", "HEAD"},
		{"scan", "--format", "xml"},
		{"scan", "--force"},
		{"scan", "a", "b"},
	} {
		if code, _, _ := e.run(dir, args...); code != ExitUsage {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code, _, stderr := e.run(dir, "scan", "--history"); code != ExitError || !strings.Contains(stderr, "hint:") {
		t.Errorf("--history outside git: exit %d %s", code, stderr)
	}
	gitIn(t, dir, "init", "-q")
	code, stdout, _ := e.run(dir, "scan", "--install-hook")
	hook := filepath.Join(dir, ".git", "hooks", "pre-commit")
	data, _ := os.ReadFile(hook)
	if code != 0 || !strings.Contains(string(data), "slickenv scan --staged") || !strings.Contains(stdout, "installed") {
		t.Fatalf("install-hook: exit %d %s %q", code, stdout, data)
	}
	os.WriteFile(hook, []byte("#!/bin/sh\nmake lint\n"), 0o755)
	if code, _, stderr := e.run(dir, "scan", "--install-hook"); code != ExitError || !strings.Contains(stderr, "--force") {
		t.Errorf("foreign hook: exit %d %s", code, stderr)
	}
	if code, _, _ := e.run(dir, "scan", "--install-hook", "--force"); code != 0 {
		t.Errorf("--force: exit %d", code)
	}
	// --staged sees what is staged.
	os.WriteFile(filepath.Join(dir, "a.env"), []byte("K="+cliAWS+"\n"), 0o644)
	if code, _, _ := e.run(dir, "scan", "--staged"); code != 0 {
		t.Errorf("nothing staged: exit %d", code)
	}
	gitIn(t, dir, "add", "a.env")
	if code, stdout, _ := e.run(dir, "scan", "--staged"); code != ExitFindings || !strings.Contains(stdout, "a.env:1:3") {
		t.Errorf("staged: exit %d\n%s", code, stdout)
	}
}
