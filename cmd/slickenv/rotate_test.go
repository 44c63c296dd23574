package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/slickenv/slickenv/internal/dotenv"
)

// The failure behaviour of `slickenv rotate` (DESIGN §4, issue 3), proven
// against the real binary with the real random and exec providers, a real
// dotenv target, deploy hooks and smoke tests as shell scripts, and HTTP
// checks against a server whose answers the test controls.
//
// The exec provider's scripts (cred.sh) keep a fake credential source in
// ./source: one file live/HASH per valid credential, so "exactly one live
// credential, the one in the store" is a directory listing. Every call is
// logged with its rotation id, action and the value's hash, never the value.

// Exit codes of rotate (DESIGN §10).
const (
	exitRolledBack = 5
	exitRunning    = 4
	exitUnfinished = 6
)

// rotSetup is one project's rotation configuration.
type rotSetup struct {
	provider  string // "random" or "exec"
	window    string // verify.window
	approve   bool   // verify.approve: manual
	smoke     bool   // a command check, ./smoke.sh, that fails
	reload    bool   // a command target after the dotenv one, ./reload.sh, that refuses the new value
	badDotenv bool   // a second dotenv target that cannot be rewritten
}

func (s rotSetup) varName() string {
	if s.provider == "exec" {
		return "API_TOKEN"
	}
	return "WEBHOOK_SECRET"
}

// longName is a dotenv file whose temporary sibling cannot be created (its
// name would pass NAME_MAX), even by root: writing to it fails, while a
// deploy that changes nothing in it succeeds without writing.
var longName = strings.Repeat("x", 240) + ".env"

func (s rotSetup) yaml(url string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "project: shop\nsecrets:\n  %s:\n", s.varName())
	switch s.provider {
	case "random":
		b.WriteString("    provider: random\n    with: { length: 16, encoding: hex, prefix: \"whsec_\" }\n")
	case "exec":
		b.WriteString("    provider: exec\n    with:\n      create: [./cred.sh, create]\n      test: [./cred.sh, test]\n      revoke: [./cred.sh, revoke]\n      timeout: 20s\n")
	}
	b.WriteString("    targets:\n      - dotenv: ./app.env\n")
	if s.reload {
		b.WriteString("      - command: [./reload.sh]\n")
	}
	if s.badDotenv {
		b.WriteString("      - dotenv: ./" + longName + "\n")
	}
	fmt.Fprintf(&b, "    verify:\n      window: %s\n", s.window)
	if s.approve {
		b.WriteString("      approve: manual\n")
	}
	fmt.Fprintf(&b, "      checks:\n        - http: { url: %q, every: 50ms, min_success: 1.0 }\n", url)
	if s.smoke {
		b.WriteString("        - command: [./smoke.sh]\n")
	}
	return b.String()
}

// credScript is the exec provider's create, test and revoke. create adopts
// the credential it made earlier for the same rotation id. Markers in
// ./source make it misbehave: reject (test fails, printing the value, as a
// careless script would), kill-after-create and kill-after-revoke (it
// SIGKILLs slickenv after acting at the source, before slickenv can
// record it).
const credScript = `#!/bin/sh
set -eu
src=./source
mkdir -p "$src/live" "$src/byrot"
hash() { sha256sum | cut -c1-16; }
{ tr '\0' ' ' < /proc/$$/cmdline; echo; } >> "$src/argv.log"
log() { echo "$SLICKENV_ACTION $SLICKENV_ROTATION_ID $1" >> "$src/calls.log"; }
case "$SLICKENV_ACTION" in
create)
	if [ -f "$src/byrot/$SLICKENV_ROTATION_ID" ]; then
		value=$(cat "$src/byrot/$SLICKENV_ROTATION_ID")
	else
		value=tok_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
		printf '%s' "$value" > "$src/byrot/$SLICKENV_ROTATION_ID"
	fi
	h=$(printf '%s' "$value" | hash)
	: > "$src/live/$h"
	log "$h"
	if [ -f "$src/kill-after-create" ]; then
		rm "$src/kill-after-create"
		kill -9 "$PPID"
		exit 1
	fi
	printf '%s\n' "$value"
	;;
test)
	h=$(hash)
	log "$h"
	if [ ! -f "$src/live/$h" ]; then echo "test: unknown or revoked credential" >&2; exit 1; fi
	if [ -f "$src/reject" ]; then echo "test: the service rejected $SLICKENV_NEW_VALUE" >&2; exit 1; fi
	;;
revoke)
	h=$(hash)
	rm -f "$src/live/$h"
	log "$h"
	if [ -f "$src/kill-after-revoke" ]; then
		rm "$src/kill-after-revoke"
		kill -9 "$PPID"
		exit 1
	fi
	;;
*)
	echo "unknown action" >&2; exit 2
	;;
esac
`

// reloadScript is a deploy hook: the app reloads app.env and refuses any key
// but the one in ./accept (it prints the key it refused, as a careless hook
// would).
const reloadScript = `#!/bin/sh
v=$(sed -n 's/^NAME=//p' app.env)
h=$(printf '%s' "$v" | sha256sum | cut -c1-16)
echo "$SLICKENV_ROTATION_ID $SLICKENV_VERSION $h" >> reload.log
if [ "$h" != "$(cat accept)" ]; then echo "reload: the app refused NAME=$v" >&2; exit 1; fi
`

// smokeScript is a smoke test that fails, printing what it read.
const smokeScript = `#!/bin/sh
v=$(sed -n 's/^NAME=//p' app.env)
echo "${SLICKENV_ROTATION_ID:-}" >> smoke.log
echo "smoke: a signed request with NAME=$v was refused" >&2
exit 1
`

// rotProject is a project whose variable name rotates per setup.
type rotProject struct {
	*project
	setup  rotSetup
	name   string // the variable rotated
	prev   string // its companion variable (random only)
	old    string // its value before any rotation
	srv    *httptest.Server
	health *atomic.Int32

	mu      *sync.Mutex
	outputs *[]string // what must never contain a value (see checkNoLeaks)
}

func newRotProject(t *testing.T, s rotSetup) *rotProject {
	t.Helper()
	if s.window == "" {
		s.window = "200ms"
	}
	p := &rotProject{project: newProject(t), setup: s, name: s.varName(), health: new(atomic.Int32), mu: new(sync.Mutex), outputs: new([]string)}
	p.prev = p.name + "_PREVIOUS"
	p.health.Store(http.StatusOK)
	health := p.health
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(int(health.Load()))
	}))
	t.Cleanup(p.srv.Close)

	p.old = "old_" + randomHex(16)
	p.mustRun(p.old, "set", p.name, "-")
	p.write(".slickenv.yaml", s.yaml(p.srv.URL), 0o644)
	p.write("app.env", "# the app's settings\n"+p.name+"="+p.old+"\nPORT=8080\n", 0o600)
	if s.badDotenv {
		p.write(longName, p.name+"="+p.old+"\n", 0o600)
	}
	p.write("cred.sh", credScript, 0o755)
	p.write("reload.sh", strings.ReplaceAll(reloadScript, "NAME", p.name), 0o755)
	p.write("smoke.sh", strings.ReplaceAll(smokeScript, "NAME", p.name), 0o755)
	p.write("accept", hash(p.old)+"\n", 0o644)
	if s.provider == "exec" {
		// The credential in use before the first rotation.
		p.write("source/live/"+hash(p.old), "", 0o644)
	}
	return p
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// hash is what the scripts log instead of a value.
func hash(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])[:16]
}

func (p *rotProject) path(name string) string { return filepath.Join(p.dir, name) }

func (p *rotProject) write(name, content string, perm os.FileMode) {
	p.t.Helper()
	if err := os.MkdirAll(filepath.Dir(p.path(name)), 0o755); err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(p.path(name), []byte(content), perm); err != nil {
		p.t.Fatal(err)
	}
}

func (p *rotProject) read(name string) string {
	p.t.Helper()
	b, err := os.ReadFile(p.path(name))
	if err != nil && !os.IsNotExist(err) {
		p.t.Fatal(err)
	}
	return string(b)
}

func (p *rotProject) record(outputs ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	*p.outputs = append(*p.outputs, outputs...)
}

// rot runs slickenv like run, recording its stderr and (except for get,
// whose job is to print a value) its stdout for the leak check.
func (p *rotProject) rot(args ...string) result {
	p.t.Helper()
	r := p.run("", args...)
	p.record(r.stderr)
	if args[0] != "get" {
		p.record(r.stdout)
	}
	return r
}

// rotExpect runs slickenv and checks its exit code and that stderr has
// each fragment.
func (p *rotProject) rotExpect(code int, stderrHas []string, args ...string) result {
	p.t.Helper()
	r := p.rot(args...)
	if r.code != code {
		p.t.Errorf("slickenv %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	for _, s := range stderrHas {
		if !strings.Contains(r.stderr, s) {
			p.t.Errorf("slickenv %s: stderr %q does not contain %q", strings.Join(args, " "), r.stderr, s)
		}
	}
	return r
}

// lookup returns a variable's value at the head (or at version when > 0).
func (p *rotProject) lookup(name string, version int64) (string, bool) {
	p.t.Helper()
	args := []string{"get", "-n", name}
	if version > 0 {
		args = append(args, "--version", strconv.FormatInt(version, 10))
	}
	r := p.rot(args...)
	switch r.code {
	case 0:
		return r.stdout, true
	case 3:
		return "", false
	}
	p.t.Fatalf("slickenv %v: exit %d: %s", args, r.code, r.stderr)
	return "", false
}

func (p *rotProject) get(name string) string {
	p.t.Helper()
	v, ok := p.lookup(name, 0)
	if !ok {
		p.t.Fatalf("%s is not set", name)
	}
	return v
}

func (p *rotProject) history() historyJSON {
	p.t.Helper()
	var h historyJSON
	out := p.rotExpect(0, nil, "history", "--json", "--limit", "0").stdout
	if err := json.Unmarshal([]byte(out), &h); err != nil {
		p.t.Fatalf("history --json: %v", err)
	}
	return h
}

func (p *rotProject) audit() []auditJSON {
	p.t.Helper()
	var entries []auditJSON
	out := p.rotExpect(0, nil, "audit", "--json").stdout
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		p.t.Fatalf("audit --json: %v", err)
	}
	return entries
}

func (p *rotProject) auditActions() []string {
	var out []string
	for _, e := range p.audit() {
		out = append(out, e.Action)
	}
	return out
}

// dotenvFile parses a dotenv target.
func (p *rotProject) dotenvFile(name string) map[string]string {
	p.t.Helper()
	entries, err := dotenv.Parse([]byte(p.read(name)), dotenv.ParseOptions{Filename: name})
	if err != nil {
		p.t.Fatal(err)
	}
	out := map[string]string{}
	for _, e := range entries {
		out[e.Key] = e.Value
	}
	return out
}

// live lists the hashes of the valid credentials at the exec source.
func (p *rotProject) live() []string {
	p.t.Helper()
	entries, err := os.ReadDir(p.path("source/live"))
	if err != nil {
		p.t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name())
	}
	return out
}

// calls returns the exec scripts' log: action, rotation id, value hash.
func (p *rotProject) calls(action string) [][3]string {
	var out [][3]string
	for _, line := range strings.Split(strings.TrimSpace(p.read("source/calls.log")), "\n") {
		f := strings.Fields(line)
		if len(f) == 3 && (action == "" || f[0] == action) {
			out = append(out, [3]string{f[0], f[1], f[2]})
		}
	}
	return out
}

// checkSettled checks that no rotation is open and exactly one credential
// is live: the store's value, which every consumer has (the dotenv files,
// the exec source), with no companion variable anywhere. wantOld says
// whether that is the value before the rotation. It returns the value.
func (p *rotProject) checkSettled(wantOld bool) string {
	p.t.Helper()
	cur := p.get(p.name)
	if wantOld && cur != p.old {
		p.t.Errorf("%s is not the old value", p.name)
	}
	if !wantOld && cur == p.old {
		p.t.Errorf("%s still holds the old value", p.name)
	}
	if _, ok := p.lookup(p.prev, 0); ok {
		p.t.Errorf("%s is still set", p.prev)
	}
	file := p.dotenvFile("app.env")
	if file[p.name] != cur {
		p.t.Errorf("app.env does not hold the store's value of %s", p.name)
	}
	if _, ok := file[p.prev]; ok {
		p.t.Errorf("app.env still has %s", p.prev)
	}
	if text := p.read("app.env"); file["PORT"] != "8080" || !strings.HasPrefix(text, "# the app's settings\n") {
		p.t.Errorf("app.env lost its other lines:\n%s", text)
	}
	if p.setup.provider == "exec" {
		if live := p.live(); len(live) != 1 || live[0] != hash(cur) {
			p.t.Errorf("live credentials at the source: %v, want exactly the store's %s (created: %v, revoked: %v)",
				live, hash(cur), p.calls("create"), p.calls("revoke"))
		}
	}
	p.rotExpect(3, []string{"no unfinished rotation"}, "rotate", p.name, "--resume")
	p.rotExpect(0, nil, "audit", "verify")
	return cur
}

// checkRolledBack checks the outcome of a rollback after the new value was
// distributed: the old value is back as a new version of kind rollback and
// in every target, the audit log has the rollback steps, and (exec) only
// the new credential was revoked.
func (p *rotProject) checkRolledBack() {
	p.t.Helper()
	p.checkSettled(true)
	h := p.history()
	if len(h.Versions) < 3 || h.Versions[0].Kind != "rollback" || h.Versions[1].Kind != "rotate" {
		p.t.Errorf("history does not end with rotate, rollback: %+v", h.Versions)
	}
	actions := p.auditActions()
	for _, a := range []string{"rotate.planned", "rotate.rolling_back", "rotate.rolled_back", "rollback"} {
		if !slices.Contains(actions, a) {
			p.t.Errorf("the audit log has no %s entry: %v", a, actions)
		}
	}
	if p.setup.provider == "exec" {
		p.checkOldNeverRevoked()
		created := map[string]bool{}
		for _, c := range p.calls("create") {
			created[c[2]] = true
		}
		revoked := p.calls("revoke")
		if len(revoked) == 0 {
			p.t.Errorf("the new credential was not revoked: %v", p.calls(""))
		}
		for _, c := range revoked {
			if !created[c[2]] {
				p.t.Errorf("revoked %s, which no create made", c[2])
			}
		}
	}
}

func (p *rotProject) checkOldNeverRevoked() {
	p.t.Helper()
	for _, c := range p.calls("revoke") {
		if c[2] == hash(p.old) {
			p.t.Errorf("the old credential was revoked (%v)", c)
		}
	}
}

// checkNoLeaks checks that no value the variable ever had (or the exec
// source ever made) appears in any recorded stderr, in the stdout of any
// command but get, in audit --json, or in what the scripts saw in their
// argv (/proc/self/cmdline) and logged.
func (p *rotProject) checkNoLeaks() {
	p.t.Helper()
	values := map[string]bool{p.old: true}
	for _, v := range p.history().Versions {
		for _, name := range []string{p.name, p.prev} {
			if val, ok := p.lookup(name, v.Version); ok {
				values[val] = true
			}
		}
	}
	if entries, err := os.ReadDir(p.path("source/byrot")); err == nil {
		for _, e := range entries {
			values[p.read("source/byrot/"+e.Name())] = true
		}
	}
	p.audit() // recorded
	p.mu.Lock()
	texts := slices.Clone(*p.outputs)
	p.mu.Unlock()
	for _, f := range []string{"source/argv.log", "source/calls.log", "reload.log", "smoke.log"} {
		texts = append(texts, p.read(f))
	}
	if p.read("source/calls.log") != "" && !strings.Contains(p.read("source/argv.log"), "cred.sh") {
		p.t.Errorf("the scripts recorded no argv: the check would prove nothing")
	}
	for v := range values {
		if len(v) < 8 {
			p.t.Fatalf("value %q too short to check for", v)
		}
		for _, text := range texts {
			if i := strings.Index(text, v); i >= 0 {
				p.t.Errorf("a value of %s leaked into output: …%s<VALUE>%s…", p.name, text[max(0, i-200):i], text[i+len(v):min(len(text), i+len(v)+100)])
			}
		}
	}
}

// rotateEvents runs slickenv rotate --json with the extra environment kv
// and returns its events, its stderr, and how it ended: exit code, or -9
// when SIGKILL ended it.
func (p *rotProject) rotateEvents(kv []string, args ...string) (events []map[string]any, stderr string, code int) {
	p.t.Helper()
	args = append([]string{"rotate", p.name, "--json"}, args...)
	cmd := p.with(kv...).command("", args...)
	var stdout, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &errb
	err := cmd.Run()
	p.record(stdout.String(), errb.String())
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		p.t.Fatal(err)
	}
	ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
	switch {
	case ws.Signaled():
		code = -int(ws.Signal())
	default:
		code = ws.ExitStatus()
	}
	for _, line := range strings.Split(strings.TrimSpace(stdout.String()), "\n") {
		if line == "" {
			continue
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			p.t.Fatalf("rotate --json printed a line that is not JSON: %q", line)
		}
		events = append(events, e)
	}
	return events, errb.String(), code
}

// lastState returns the rotation id and the last state event.
func lastState(events []map[string]any) (id, state string) {
	for _, e := range events {
		if e["event"] == "state" {
			id, state = e["rotation"].(string), e["state"].(string)
		}
	}
	return id, state
}

func doneEvent(events []map[string]any) map[string]any {
	if n := len(events); n > 0 && events[n-1]["event"] == "done" {
		return events[n-1]
	}
	return nil
}

// TestRotateRollsBackOnFailure makes each kind of verification fail in
// turn: the rotation rolls back by itself (exit 5), the old value is live
// again everywhere, and nothing secret reaches an output.
func TestRotateRollsBackOnFailure(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		setup rotSetup
		arm   func(p *rotProject) // make it fail
		why   []string            // in stderr
	}{
		{"http check gets 500s", rotSetup{provider: "random"}, func(p *rotProject) { p.health.Store(500) }, []string{"http", "500"}},
		{"http check gets 500s (exec)", rotSetup{provider: "exec"}, func(p *rotProject) { p.health.Store(500) }, []string{"http", "500"}},
		{"command check exits 1", rotSetup{provider: "random", smoke: true}, nil, []string{"smoke.sh", "exit"}},
		{"command check exits 1 (exec)", rotSetup{provider: "exec", smoke: true}, nil, []string{"smoke.sh"}},
		{"command target fails", rotSetup{provider: "random", reload: true}, nil, []string{"reload.sh"}},
		{"command target fails (exec)", rotSetup{provider: "exec", reload: true}, nil, []string{"reload.sh"}},
		{"dotenv target fails", rotSetup{provider: "random", badDotenv: true}, nil, []string{"dotenv", "file name too long"}},
		{"exec test rejects the new value", rotSetup{provider: "exec"}, func(p *rotProject) { p.write("source/reject", "", 0o644) },
			[]string{"rejected", "**redacted**"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := newRotProject(t, c.setup)
			if c.arm != nil {
				c.arm(p)
			}
			longBefore := p.read(longName)
			events, stderr, code := p.rotateEvents(nil)
			if code != exitRolledBack {
				t.Fatalf("rotate exited %d, want 5\nstderr: %s", code, stderr)
			}
			for _, s := range append([]string{"slickenv: error: ", "rolled back", "slickenv: hint: "}, c.why...) {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr does not contain %q:\n%s", s, stderr)
				}
			}
			if d := doneEvent(events); d == nil || d["outcome"] != "rolled_back" || d["exit"] != float64(5) {
				t.Errorf("last event %v, want done with outcome rolled_back", d)
			}
			id, state := lastState(events)
			if state != "rolled_back" {
				t.Errorf("last state %q, want rolled_back", state)
			}
			p.checkRolledBack()
			if c.setup.reload {
				// The hook ran for the new version and again, successfully,
				// for the rollback; always with the rotation id.
				log := p.read("reload.log")
				if n := strings.Count(log, id+" "); n != 2 {
					t.Errorf("reload.sh ran %d times for %s, want 2:\n%s", n, id, log)
				}
				if !strings.HasSuffix(log, hash(p.old)+"\n") {
					t.Errorf("the last reload did not see the old value:\n%s", log)
				}
			}
			if c.setup.smoke && strings.TrimSpace(p.read("smoke.log")) != id {
				t.Errorf("smoke.sh ran without SLICKENV_ROTATION_ID=%s: %q", id, p.read("smoke.log"))
			}
			if c.setup.badDotenv && p.read(longName) != longBefore {
				t.Errorf("the unwritable dotenv target changed")
			}
			// Once the cause is gone, the next rotation works.
			p.health.Store(200)
			os.Remove(p.path("source/reject"))
			p.write("smoke.sh", "#!/bin/sh\nexit 0\n", 0o755)
			p.write("reload.sh", "#!/bin/sh\nexit 0\n", 0o755)
			if c.setup.badDotenv {
				os.Remove(p.path(longName))
				p.write(".slickenv.yaml", rotSetup{provider: c.setup.provider, window: "200ms"}.yaml(p.srv.URL), 0o644)
			}
			p.rotExpect(0, nil, "rotate", p.name)
			p.checkSettled(false)
			p.checkOldNeverRevokedBeforeDone()
			p.checkNoLeaks()
		})
	}
}

// checkOldNeverRevokedBeforeDone: the old credential was revoked at most
// once, by the rotation that finished.
func (p *rotProject) checkOldNeverRevokedBeforeDone() {
	p.t.Helper()
	if p.setup.provider != "exec" {
		return
	}
	n := 0
	for _, c := range p.calls("revoke") {
		if c[2] == hash(p.old) {
			n++
		}
	}
	if n != 1 {
		p.t.Errorf("the old credential was revoked %d times, want once (by the rotation that finished)", n)
	}
}

// killPoints are where a rotation is killed: the engine's failpoints
// (SLICKENV_FAILPOINT: right after the journal entered the state; "create":
// after the provider made the credential, before the journal knows it) and,
// for exec, a script that SIGKILLs slickenv in the middle of a step.
var killPoints = []string{"create", "planned", "created", "distributed", "deployed", "verified", "revoked", "rolling_back",
	"script:create", "script:revoke"}

// stateAt is the journal state a kill point leaves.
func stateAt(kp string) string {
	switch kp {
	case "create", "script:create":
		return "planned"
	case "script:revoke":
		return "verified"
	}
	return kp
}

// TestRotateKillAnywhere kills rotate -9 at every state boundary, then
// shows that rotate refuses to start over (exit 6, with a hint), that
// --resume finishes the rotation (or its rollback) and --abort rolls it
// back before the old credential is touched, and that afterwards exactly
// one credential is live everywhere, nothing is orphaned, the audit chain
// verifies and the next rotation works.
func TestRotateKillAnywhere(t *testing.T) {
	t.Parallel()
	for _, provider := range []string{"random", "exec"} {
		for _, kp := range killPoints {
			for _, mode := range []string{"resume", "abort"} {
				if strings.HasPrefix(kp, "script:") && provider != "exec" {
					continue
				}
				if mode == "abort" && kp == "revoked" {
					continue // nothing to roll back: see TestRotateAbortAfterRevoke
				}
				t.Run(provider+"/"+kp+"/"+mode, func(t *testing.T) {
					t.Parallel()
					killAndRecover(t, provider, kp, mode)
				})
			}
		}
	}
}

func killAndRecover(t *testing.T, provider, kp, mode string) {
	p := newRotProject(t, rotSetup{provider: provider})
	var env []string
	switch kp {
	case "script:create":
		p.write("source/kill-after-create", "", 0o644)
	case "script:revoke":
		p.write("source/kill-after-revoke", "", 0o644)
	case "rolling_back":
		p.health.Store(500) // the rotation fails verification and starts rolling back
		env = append(env, "SLICKENV_FAILPOINT="+kp)
	default:
		env = append(env, "SLICKENV_FAILPOINT="+kp)
	}
	events, stderr, code := p.rotateEvents(env)
	if code != -int(syscall.SIGKILL) {
		t.Fatalf("rotate with kill point %s ended with %d, want SIGKILL\nstderr: %s", kp, code, stderr)
	}
	killed := time.Now()
	id, state := lastState(events)
	if state != stateAt(kp) {
		t.Fatalf("killed at state %q, want %q", state, stateAt(kp))
	}

	// The dead holder's lease (valid for 15s more) is stale at once: this
	// is "unfinished" (6), not "running" (4).
	r := p.rotExpect(exitUnfinished, []string{id, "unfinished", "--resume", "--abort"}, "rotate", p.name)
	if r.stdout != "" {
		t.Errorf("the refused rotate printed %q", r.stdout)
	}
	p.rotExpect(exitUnfinished, []string{id}, "rotate", p.name, "--json")

	p.health.Store(200) // consumers are healthy again: a resumed verification passes
	wantCode, wantOld := 0, false
	switch {
	case mode == "abort" && kp == "script:revoke":
		// The old credential may already be revoked at the source: abort
		// cannot bring it back, so it finishes the rotation.
	case mode == "abort", kp == "rolling_back":
		wantCode, wantOld = exitRolledBack, true
	}
	events, stderr, code = p.rotateEvents(nil, "--"+mode)
	if code != wantCode {
		t.Fatalf("rotate --%s exited %d, want %d\nstderr: %s", mode, code, wantCode, stderr)
	}
	if d := time.Since(killed); d > 10*time.Second {
		t.Errorf("recovering took %s: the dead holder's lease should not be waited for", d)
	}
	if rid, _ := lastState(events); rid != id {
		t.Errorf("--%s drove rotation %q, want %s", mode, rid, id)
	}
	if want := map[bool]string{true: "rolled_back", false: "done"}[wantOld]; doneEvent(events) == nil || doneEvent(events)["outcome"] != want {
		t.Errorf("--%s: last event %v, want outcome %s", mode, doneEvent(events), want)
	}
	p.checkSettled(wantOld)
	if wantOld {
		actions := p.auditActions()
		if !slices.Contains(actions, "rotate.rolled_back") {
			t.Errorf("no rotate.rolled_back in the audit log")
		}
		if provider == "exec" {
			p.checkOldNeverRevoked()
		}
	}
	if !slices.Contains(p.auditActions(), "rotate."+mode) {
		t.Errorf("the audit log does not record the %s", mode)
	}

	// The variable can be rotated again.
	p.rotExpect(0, nil, "rotate", p.name)
	p.checkSettled(false)
	p.checkNoLeaks()
}

// TestRotateAbortAfterRevoke: once the old credential is revoked there is
// nothing to roll back to; --abort finishes the rotation.
func TestRotateAbortAfterRevoke(t *testing.T) {
	t.Parallel()
	p := newRotProject(t, rotSetup{provider: "exec"})
	_, stderr, code := p.rotateEvents([]string{"SLICKENV_FAILPOINT=revoked"})
	if code != -int(syscall.SIGKILL) {
		t.Fatalf("rotate ended with %d: %s", code, stderr)
	}
	r := p.rotExpect(0, nil, "rotate", p.name, "--abort")
	if !strings.Contains(r.stdout, "already revoked") {
		t.Errorf("--abort did not explain why it finished instead: %q", r.stdout)
	}
	p.checkSettled(false)
	p.checkNoLeaks()
}

// TestRotateConcurrent: a second rotate of the same variable while one runs
// exits 4 naming it, and so do --resume, --abort and --approve; the first
// one is undisturbed.
func TestRotateConcurrent(t *testing.T) {
	t.Parallel()
	p := newRotProject(t, rotSetup{provider: "random"})
	cmd := p.command("", "rotate", p.name, "--json", "--window", "3s")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stdout)
	var id string
	var seen []string
	for lines.Scan() {
		line := lines.Text()
		seen = append(seen, line)
		var e struct{ Event, Rotation, State string }
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not JSON: %q", line)
		}
		if e.Rotation != "" {
			id = e.Rotation
		}
		if e.Event == "state" && e.State == "deployed" {
			break
		}
	}
	if id == "" {
		cmd.Wait()
		t.Fatalf("the first rotation never reached deployed:\n%s\n%s", strings.Join(seen, "\n"), stderr.String())
	}
	inWindow := time.Now()
	for _, extra := range [][]string{nil, {"--resume"}, {"--abort"}, {"--approve"}} {
		args := append([]string{"rotate", p.name}, extra...)
		r := p.rotExpect(exitRunning, []string{"slickenv: error: ", id, "is running"}, args...)
		if r.stdout != "" {
			t.Errorf("%v printed %q", args, r.stdout)
		}
	}
	if d := time.Since(inWindow); d > 2500*time.Millisecond {
		t.Fatalf("the refusals took %s: they did not all happen during the 3s window", d)
	}
	rest := new(bytes.Buffer)
	rest.ReadFrom(stdout)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the first rotation: %v\n%s", err, stderr.String())
	}
	p.record(strings.Join(seen, "\n"), rest.String(), stderr.String())
	if !strings.Contains(rest.String(), `"outcome":"done"`) {
		t.Errorf("the first rotation did not finish: %s", rest.String())
	}
	p.checkSettled(false)
	// One rotation: one plan, one done in the audit log.
	actions := p.auditActions()
	for _, a := range []string{"rotate.planned", "rotate.done"} {
		if n := countOf(actions, a); n != 1 {
			t.Errorf("%d %s entries, want 1", n, a)
		}
	}
	p.checkNoLeaks()
}

// TestRotateRace starts several rotations of one variable at the same
// moment: exactly one runs, the others exit 4.
func TestRotateRace(t *testing.T) {
	t.Parallel()
	p := newRotProject(t, rotSetup{provider: "random", window: "1s"})
	const n = 4
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			results[i] = p.rot("rotate", p.name)
		})
	}
	close(start)
	wg.Wait()
	won := 0
	for _, r := range results {
		switch r.code {
		case 0:
			won++
		case exitRunning:
			if !strings.Contains(r.stderr, "is running") {
				t.Errorf("a loser's stderr does not name the running rotation: %s", r.stderr)
			}
		default:
			t.Errorf("rotate exited %d: %s", r.code, r.stderr)
		}
	}
	if won != 1 {
		t.Errorf("%d rotations ran, want 1", won)
	}
	p.checkSettled(false)
}

func countOf(list []string, s string) int {
	n := 0
	for _, x := range list {
		if x == s {
			n++
		}
	}
	return n
}

// TestRotateBadConfig: configuration mistakes are reported before anything
// changes: no version, no journal entry, no audit entry.
func TestRotateBadConfig(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name, with string
		want       []string
	}{
		{"unknown provider", "    provider: vault\n", []string{`unknown provider "vault"`, "exec", "random"}},
		{"invalid setting", "    provider: random\n    with: { length: 3 }\n", []string{"provider random", "length"}},
		{"missing setting", "    provider: exec\n    with: { test: [./cred.sh, test] }\n", []string{"provider exec", "create", "required"}},
		{"unresolvable reference", "    provider: exec\n    with:\n      create: [./cred.sh, create]\n      env: { ADMIN_TOKEN: \"${ADMIN_TOKEN}\" }\n",
			[]string{"${ADMIN_TOKEN}", "not set"}},
		{"no provider", "    max_age: 30d\n", []string{"no rotation provider", "secrets.WEBHOOK_SECRET.provider"}},
		{"not configured", "", []string{"no rotation provider"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := newRotProject(t, rotSetup{provider: "random"})
			yaml := "project: shop\nsecrets:\n  " + p.name + ":\n" + c.with
			if c.with == "" {
				yaml = "project: shop\nsecrets:\n  OTHER:\n    provider: random\n"
			}
			p.write(".slickenv.yaml", yaml, 0o644)
			history := p.rotExpect(0, nil, "history", "--json").stdout
			audit := p.rotExpect(0, nil, "audit", "--json").stdout
			for _, extra := range [][]string{nil, {"--dry-run"}, {"--json"}} {
				args := append([]string{"rotate", p.name}, extra...)
				r := p.rot(args...)
				if r.code != 1 && r.code != 2 {
					t.Errorf("%v exited %d, want 1 or 2\n%s", args, r.code, r.stderr)
				}
				for _, s := range append([]string{"slickenv: error: "}, c.want...) {
					if !strings.Contains(r.stderr, s) {
						t.Errorf("%v: stderr %q does not contain %q", args, r.stderr, s)
					}
				}
			}
			if got := p.rotExpect(0, nil, "history", "--json").stdout; got != history {
				t.Errorf("history changed")
			}
			got := p.rotExpect(0, nil, "audit", "--json").stdout
			if strings.HasSuffix(c.name, "not configured") || c.name == "no provider" {
				// Without a provider, step [1/5] reads the value to detect
				// one: an audited get of the variable, and nothing else.
				got, audit = withoutGets(t, got), withoutGets(t, audit)
			}
			if got != audit {
				t.Errorf("the audit log changed:\n%s", got)
			}
			p.write(".slickenv.yaml", p.setup.yaml(p.srv.URL), 0o644)
			p.rotExpect(0, nil, "rotate", p.name)
			p.checkSettled(false)
			p.checkNoLeaks()
		})
	}
}

// TestRotateDryRun: --dry-run prints the plan and the rollback steps and
// changes nothing at all.
func TestRotateDryRun(t *testing.T) {
	t.Parallel()
	for _, provider := range []string{"random", "exec"} {
		t.Run(provider, func(t *testing.T) {
			t.Parallel()
			p := newRotProject(t, rotSetup{provider: provider, reload: true})
			snapshot := func() string {
				return p.rotExpect(0, nil, "history", "--json", "--limit", "0").stdout +
					p.rotExpect(0, nil, "audit", "--json").stdout + p.read("app.env") + p.read("source/calls.log") + p.read("reload.log")
			}
			before := snapshot()
			out := p.rotExpect(0, nil, "rotate", p.name, "--dry-run").stdout
			for _, s := range []string{"Plan: rotate " + p.name, "dry run", "create:", "verify:", "revoke",
				"If verification fails, rollback:", "previous value as a new version", "redeploy dotenv", "command ./reload.sh",
				"revoke the new credential at " + provider} {
				if !strings.Contains(out, s) {
					t.Errorf("the dry run does not mention %q:\n%s", s, out)
				}
			}
			var plan struct {
				DryRun   bool     `json:"dry_run"`
				Steps    []string `json:"steps"`
				Rollback []string `json:"rollback"`
			}
			if err := json.Unmarshal([]byte(p.rotExpect(0, nil, "rotate", p.name, "--dry-run", "--json").stdout), &plan); err != nil {
				t.Fatal(err)
			}
			if !plan.DryRun || len(plan.Steps) < 5 || len(plan.Rollback) < 3 {
				t.Errorf("--dry-run --json = %+v", plan)
			}
			if after := snapshot(); after != before {
				t.Errorf("the dry run changed something:\nbefore: %s\nafter: %s", before, after)
			}
			p.checkNoLeaks()
		})
	}
}

// TestRotateManualApproval: with verify.approve: manual the rotation stops
// after the window with both values live, refuses to start over (exit 6),
// and finishes with --approve or rolls back with --abort.
func TestRotateManualApproval(t *testing.T) {
	t.Parallel()
	for _, finish := range []string{"approve", "abort"} {
		t.Run(finish, func(t *testing.T) {
			t.Parallel()
			p := newRotProject(t, rotSetup{provider: "random", approve: true})
			events, stderr, code := p.rotateEvents(nil)
			if code != 0 {
				t.Fatalf("rotate exited %d: %s", code, stderr)
			}
			if d := doneEvent(events); d == nil || d["outcome"] != "awaiting_approval" {
				t.Errorf("last event %v, want outcome awaiting_approval", d)
			}
			id, state := lastState(events)
			if state != "awaiting_approval" {
				t.Errorf("last state %s", state)
			}
			newValue := p.get(p.name)
			if newValue == p.old || p.get(p.prev) != p.old {
				t.Errorf("while waiting, %s must be new and %s old", p.name, p.prev)
			}
			if file := p.dotenvFile("app.env"); file[p.name] != newValue || file[p.prev] != p.old {
				t.Errorf("app.env does not have both values while waiting")
			}
			p.rotExpect(exitUnfinished, []string{id, "--approve", "--abort"}, "rotate", p.name)
			// Resume does not approve: it waits again.
			if out := p.rotExpect(0, nil, "rotate", p.name, "--resume").stdout; !strings.Contains(out, "Waiting for approval") {
				t.Errorf("--resume of a rotation awaiting approval: %q", out)
			}
			if finish == "abort" {
				p.rotExpect(exitRolledBack, []string{"aborted"}, "rotate", p.name, "--abort")
				p.checkRolledBack()
			} else {
				p.rotExpect(0, nil, "rotate", p.name, "--approve")
				if got := p.checkSettled(false); got != newValue {
					t.Errorf("approval changed the new value")
				}
				if !slices.Contains(p.auditActions(), "rotate.approve") {
					t.Errorf("the approval is not in the audit log")
				}
			}
			p.rotExpect(3, nil, "rotate", p.name, "--approve") // nothing left to approve
			p.checkNoLeaks()
		})
	}
}

// withoutGets drops the "get" entries from `audit --json` output.
func withoutGets(t *testing.T, out string) string {
	t.Helper()
	var entries []map[string]any
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatalf("audit --json: %v", err)
	}
	entries = slices.DeleteFunc(entries, func(e map[string]any) bool { return e["action"] == "get" })
	b, err := json.Marshal(entries)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
