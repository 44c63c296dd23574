package exec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/secret"
)

// script writes an executable bash script into dir and returns its path.
func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte("#!/usr/bin/env bash\nset -euo pipefail\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func newProvider(t *testing.T, s provider.Settings) provider.Provider {
	t.Helper()
	p, err := New(s)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

const (
	oldValue = "old-Value-0ld-31415926"
	newValue = "new-Value-n3w-27182818"
)

// TestScriptContract runs each action under a script that records what it
// sees: argv, its own /proc cmdline, stdin and environment.
func TestScriptContract(t *testing.T) {
	dir := t.TempDir()
	rec := script(t, dir, "record.sh", `
out="$OUT/$SLICKENV_ACTION"
mkdir -p "$out"
printf '%s\0' "$@" > "$out/args"
cat /proc/$$/cmdline > "$out/cmdline"
cat > "$out/stdin"
env -0 > "$out/environ"
`)
	t.Setenv("SLICKENV_NEW_VALUE", "stale-inherited")
	t.Setenv("SLICKENV_META_STALE", "stale-inherited")
	t.Setenv("INHERITED", "yes")
	argv := func(action string) []any { return []any{rec, action, "--flag", "arg with space"} }
	p := newProvider(t, provider.Settings{
		"create":   argv("create"),
		"test":     argv("test"),
		"revoke":   argv("revoke"),
		"generate": map[string]any{},
		"env":      map[string]any{"OUT": dir, "INHERITED": "overridden"},
	})
	ctx := provider.WithCall(t.Context(), provider.Call{RotationID: "rot_1", Env: "production", Name: "API_KEY"})
	oldCred := provider.Credential{Value: secret.New(oldValue), Meta: map[string]string{"key-id": "k1", "user": "app"}}
	pending := secret.New(newValue)
	c, err := p.Create(ctx, provider.CreateRequest{RotationID: "rot_1", Env: "production", Name: "API_KEY", Current: oldCred, Pending: pending})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if !c.Value.Equal(pending) || len(c.Meta) != 0 {
		t.Fatalf("Create = %#v %v", c.Value, c.Meta)
	}
	c.Meta = map[string]string{"key-id": "k2"}
	if err := p.Test(ctx, c); err != nil {
		t.Fatalf("Test: %v", err)
	}
	if err := p.Revoke(ctx, oldCred); err != nil {
		t.Fatalf("Revoke: %v", err)
	}

	tests := []struct {
		action         string
		stdin          string
		newVal, oldVal string // "-" when the variable must be unset
		meta           map[string]string
	}{
		{"create", newValue, newValue, oldValue, oldCred.Meta},
		{"test", newValue, newValue, "-", c.Meta},
		{"revoke", oldValue, "-", oldValue, oldCred.Meta},
	}
	for _, tt := range tests {
		t.Run(tt.action, func(t *testing.T) {
			out := filepath.Join(dir, tt.action)
			wantArgs := tt.action + "\x00--flag\x00arg with space\x00"
			if got := readFile(t, filepath.Join(out, "args")); got != wantArgs {
				t.Errorf("args = %q, want %q", got, wantArgs)
			}
			cmdline := readFile(t, filepath.Join(out, "cmdline"))
			if !strings.Contains(cmdline, rec) {
				t.Errorf("cmdline %q does not name the script", cmdline)
			}
			if strings.Contains(cmdline, newValue) || strings.Contains(cmdline, oldValue) {
				t.Errorf("a value is in the child's /proc cmdline: %q", cmdline)
			}
			if got := readFile(t, filepath.Join(out, "stdin")); got != tt.stdin {
				t.Errorf("stdin = %q, want %q (exactly, no newline)", got, tt.stdin)
			}
			env := map[string]string{}
			for _, kv := range strings.Split(readFile(t, filepath.Join(out, "environ")), "\x00") {
				if k, v, ok := strings.Cut(kv, "="); ok {
					env[k] = v
				}
			}
			want := map[string]string{
				"SLICKENV_ACTION": tt.action, "SLICKENV_ROTATION_ID": "rot_1",
				"SLICKENV_ENV": "production", "SLICKENV_NAME": "API_KEY",
				"SLICKENV_NEW_VALUE": tt.newVal, "SLICKENV_OLD_VALUE": tt.oldVal,
				"SLICKENV_META_STALE": "-", "INHERITED": "overridden", "OUT": dir,
			}
			for k, v := range tt.meta {
				want["SLICKENV_META_"+MetaEnvName(k)] = v
			}
			for k, v := range want {
				got, ok := env[k]
				if v == "-" && ok {
					t.Errorf("%s is set", k)
				} else if v != "-" && got != v {
					t.Errorf("%s = %q, want %q", k, got, v)
				}
			}
			var meta map[string]string
			if err := json.Unmarshal([]byte(env["SLICKENV_META"]), &meta); err != nil || fmt.Sprint(meta) != fmt.Sprint(tt.meta) {
				t.Errorf("SLICKENV_META = %q (%v), want %v", env["SLICKENV_META"], err, tt.meta)
			}
			if env["PATH"] == "" {
				t.Error("the parent's environment is not passed on")
			}
		})
	}
}

func TestMetaEnvName(t *testing.T) {
	for in, want := range map[string]string{"key_id": "KEY_ID", "key-id": "KEY_ID", "a.b/c": "A_B_C", "ä": "__"} {
		if got := MetaEnvName(in); got != want {
			t.Errorf("MetaEnvName(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCreateOutput runs create scripts that print given stdout.
func TestCreateOutput(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name      string
		stdout    string
		generate  bool
		wantValue string
		wantMeta  map[string]string
		wantErr   string
	}{
		{name: "bare with newline", stdout: "tok_abc\n", wantValue: "tok_abc"},
		{name: "bare without newline", stdout: "tok_abc", wantValue: "tok_abc"},
		{name: "bare crlf", stdout: "tok_abc\r\n", wantValue: "tok_abc"},
		{name: "bare spaces kept", stdout: " tok abc \n", wantValue: " tok abc "},
		{name: "json", stdout: `{"value":"tok_abc","meta":{"key_id":"k9"}}` + "\n", wantValue: "tok_abc", wantMeta: map[string]string{"key_id": "k9"}},
		{name: "json indented", stdout: "\n  {\n \"value\": \"l1\\nl2\"\n}\n", wantValue: "l1\nl2"},
		{name: "generate empty", generate: true, stdout: ""},
		{name: "generate blank", generate: true, stdout: "\n"},
		{name: "generate meta", generate: true, stdout: `{"meta":{"id":"7"}}`, wantMeta: map[string]string{"id": "7"}},

		{name: "empty", stdout: "", wantErr: "stdout is empty"},
		{name: "newline only", stdout: "\n", wantErr: "stdout is empty"},
		{name: "progress then value", stdout: "creating key...\ntok_abc\n", wantErr: "stdout has 2 lines"},
		{name: "nul", stdout: "tok\x00abc", wantErr: "NUL"},
		{name: "json without value", stdout: `{"meta":{}}`, wantErr: `without a "value"`},
		{name: "json empty value", stdout: `{"value":""}`, wantErr: `without a "value"`},
		{name: "json unknown field", stdout: `{"type":"service_account","private_key":"tok_abc"}`, wantErr: `unknown field "type"`},
		{name: "json invalid", stdout: `{"value": tok_abc}`, wantErr: "not valid JSON"},
		{name: "json truncated", stdout: `{"value": "tok_abc"`, wantErr: "JSON"},
		{name: "json trailing", stdout: `{"value":"tok_abc"} tok_abc`, wantErr: "data after"},
		{name: "json meta number", stdout: `{"value":"tok_abc","meta":{"n":1}}`, wantErr: "wrong type"},
		{name: "json value number", stdout: `{"value":12345678}`, wantErr: "wrong type"},
		{name: "json meta empty key", stdout: `{"value":"tok_abc","meta":{"":"x"}}`, wantErr: "empty key"},
		{name: "same as current", stdout: oldValue + "\n", wantErr: "current value"},
		{name: "generate value", generate: true, stdout: `{"value":"tok_abc"}`, wantErr: `"value" in stdout`},
		{name: "generate progress", generate: true, stdout: "done tok_abc\n", wantErr: "must be empty"},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			outFile := filepath.Join(dir, strconv.Itoa(i))
			if err := os.WriteFile(outFile, []byte(tt.stdout), 0o600); err != nil {
				t.Fatal(err)
			}
			s := provider.Settings{"create": []any{script(t, dir, strconv.Itoa(i)+".sh", `cat "$1"`), outFile}}
			req := provider.CreateRequest{RotationID: "rot", Current: provider.Credential{Value: secret.New(oldValue)}}
			if tt.generate {
				s["generate"] = map[string]any{}
				req.Pending = secret.New(newValue)
			}
			c, err := newProvider(t, s).Create(t.Context(), req)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Create error = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "tok_abc") || strings.Contains(err.Error(), oldValue) {
					t.Errorf("error quotes the output: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Create: %v", err)
			}
			want := tt.wantValue
			if tt.generate {
				want = newValue
			}
			if c.Value.Reveal() != want {
				t.Errorf("value = %q, want %q", c.Value.Reveal(), want)
			}
			if fmt.Sprint(c.Meta) != fmt.Sprint(tt.wantMeta) {
				t.Errorf("meta = %v, want %v", c.Meta, tt.wantMeta)
			}
		})
	}
}

func TestGenerate(t *testing.T) {
	p := newProvider(t, provider.Settings{"create": []any{"true"}, "generate": map[string]any{"encoding": "hex", "prefix": "k_"}})
	g, ok := p.(provider.Generator)
	if !ok {
		t.Fatal("exec with generate is not a provider.Generator")
	}
	a, err := g.Generate()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := g.Generate()
	if !strings.HasPrefix(a.Reveal(), "k_") || a.Len() != 2+64 || a.Equal(b) {
		t.Errorf("Generate = %d bytes, distinct %v", a.Len(), !a.Equal(b))
	}
	if _, err := p.Create(t.Context(), provider.CreateRequest{RotationID: "r"}); !errors.Is(err, ErrNoPending) {
		t.Errorf("Create without Pending = %v, want ErrNoPending", err)
	}
	if _, ok := newProvider(t, provider.Settings{"create": []any{"true"}}).(provider.Generator); ok {
		t.Error("exec without generate is a provider.Generator")
	}
}

func TestFailingScriptRedactsStderr(t *testing.T) {
	dir := t.TempDir()
	const envSecret = "admin-T0ken-from-env-setting"
	pem := "-----BEGIN KEY-----\nAAAAline1secretAAAA\nBBBBline2secretBBBB\n-----END KEY-----"
	fail := script(t, dir, "fail.sh", `
for i in $(seq 1 30); do echo "noise line $i" >&2; done
echo "old=${SLICKENV_OLD_VALUE:-} new=${SLICKENV_NEW_VALUE:-} admin=$ADMIN stdin=$(cat)" >&2
echo "tail end" >&2
exit 3
`)
	p := newProvider(t, provider.Settings{
		"create": []any{fail}, "test": []any{fail}, "revoke": []any{fail},
		"generate": map[string]any{}, "env": map[string]any{"ADMIN": envSecret},
	})
	cur := provider.Credential{Value: secret.New(oldValue)}
	_, err := p.Create(t.Context(), provider.CreateRequest{RotationID: "r", Current: cur, Pending: secret.New(newValue)})
	checkRedacted(t, err, 3, oldValue, newValue, envSecret)
	if !strings.Contains(err.Error(), "old=**redacted** new=**redacted** admin=**redacted** stdin=**redacted**") {
		t.Errorf("redacted line missing: %v", err)
	}
	for _, line := range []string{"noise line 13", "noise line 30", "tail end"} {
		if !strings.Contains(err.Error(), line) {
			t.Errorf("error lacks %q: %v", line, err)
		}
	}
	if strings.Contains(err.Error(), "noise line 12\n") {
		t.Errorf("error has more than the last 20 lines: %v", err)
	}
	checkRedacted(t, p.Test(t.Context(), provider.Credential{Value: secret.New(newValue)}), 3, newValue)
	checkRedacted(t, p.Revoke(t.Context(), provider.Credential{Value: secret.New(pem)}), 3, pem, "line1secret", "line2secret")

	// A create without generate that printed its new value before failing.
	leaky := script(t, dir, "leaky.sh", `
echo tok_printed_before_failing
echo "made tok_printed_before_failing, then failed" >&2
exit 4
`)
	_, err = newProvider(t, provider.Settings{"create": []any{leaky}}).Create(t.Context(), provider.CreateRequest{RotationID: "r", Current: cur})
	checkRedacted(t, err, 4, "tok_printed_before_failing")
}

func checkRedacted(t *testing.T, err error, status int, values ...string) {
	t.Helper()
	var ce *CommandError
	if !errors.As(err, &ce) {
		t.Fatalf("error = %v, want a *CommandError", err)
	}
	if ce.ExitCode != status || !strings.Contains(err.Error(), fmt.Sprintf("exited with status %d", status)) {
		t.Errorf("error %q: want status %d", err, status)
	}
	if !strings.Contains(ce.Stderr, secret.Redacted) {
		t.Errorf("stderr %q has no redaction", ce.Stderr)
	}
	for _, v := range values {
		if strings.Contains(err.Error(), v) {
			t.Errorf("error contains a value: %v", err)
		}
	}
}

func TestStderrTail(t *testing.T) {
	value := "s3cret-value-XYZ"
	tests := []struct {
		name      string
		stderr    string
		truncated bool
		want      string
	}{
		{"empty", "", false, ""},
		{"redacted", "a " + value + " b\n", false, "a **redacted** b"},
		// The kept tail starts in the middle of a line that held the value:
		// the partial line is dropped.
		{"partial first line", value[5:] + " x\nnext\n", true, "next"},
		{"partial only line", value[5:], true, ""},
		{"long line cut", strings.Repeat("é", 300) + "\n", false, strings.Repeat("é", 256) + "…"},
		{"crlf", "a\r\nb\r\n", false, "a\nb"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := stderrTail([]byte(tt.stderr), tt.truncated, []string{value}); got != tt.want {
				t.Errorf("stderrTail = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{keep: 8}
	for _, s := range []string{"abc", "defgh", "ijk"} {
		if n, err := b.Write([]byte(s)); n != len(s) || err != nil {
			t.Fatal(n, err)
		}
	}
	if string(b.Bytes()) != "defghijk" || !b.truncated {
		t.Errorf("tail = %q, truncated %v", b.Bytes(), b.truncated)
	}
	// A long stderr keeps only its end and drops the partial first line.
	dir := t.TempDir()
	long := script(t, dir, "long.sh", `
head -c 200000 /dev/zero | tr '\0' 'x' >&2
echo >&2
echo "$SLICKENV_OLD_VALUE at the end" >&2
exit 1
`)
	err := newProvider(t, provider.Settings{"revoke": []any{long}, "create": []any{"true"}}).
		Revoke(t.Context(), provider.Credential{Value: secret.New(oldValue)})
	var ce *CommandError
	if !errors.As(err, &ce) || ce.Stderr != "**redacted** at the end" {
		t.Errorf("error = %v", err)
	}
}

func pidAlive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// A zombie waiting for a reaper is dead for our purposes.
	_, rest, _ := bytes.Cut(b, []byte(") "))
	return len(rest) > 0 && rest[0] != 'Z'
}

func waitDead(t *testing.T, pid int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for pidAlive(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d survived", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readPid(t *testing.T, path string) int {
	t.Helper()
	pid, err := strconv.Atoi(strings.TrimSpace(readFile(t, path)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestTimeoutKillsProcessGroup(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	slow := script(t, dir, "slow.sh", `
sleep 60 &
echo $! > "$1"
echo "waiting with $SLICKENV_NEW_VALUE" >&2
wait
`)
	p := newProvider(t, provider.Settings{"create": []any{"true"}, "test": []any{slow, pidFile}, "timeout": "300ms"})
	start := time.Now()
	err := p.Test(t.Context(), provider.Credential{Value: secret.New(newValue)})
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("Test took %v with a 300ms timeout", elapsed)
	}
	var ce *CommandError
	if !errors.As(err, &ce) || !ce.TimedOut {
		t.Fatalf("error = %v, want a timeout", err)
	}
	if !strings.Contains(err.Error(), "timed out after 300ms") || strings.Contains(err.Error(), newValue) {
		t.Errorf("error = %v", err)
	}
	if !strings.Contains(err.Error(), "waiting with **redacted**") {
		t.Errorf("error lacks the stderr before the timeout: %v", err)
	}
	waitDead(t, readPid(t, pidFile))
}

func TestLeftoverProcessesAreKilled(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	// The background sleep keeps stdout open after the script exits.
	leave := script(t, dir, "leave.sh", `
sleep 60 &
echo $! > "$1"
echo tok_left_behind
`)
	c, err := newProvider(t, provider.Settings{"create": []any{leave, pidFile}}).Create(t.Context(), provider.CreateRequest{RotationID: "r"})
	if err != nil || c.Value.Reveal() != "tok_left_behind" {
		t.Fatalf("Create = %q, %v", c.Value.Reveal(), err)
	}
	waitDead(t, readPid(t, pidFile))
}

func TestContextCancel(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	slow := script(t, dir, "slow.sh", `echo $$ > "$1"; sleep 60`)
	p := newProvider(t, provider.Settings{"create": []any{"true"}, "revoke": []any{slow, pidFile}})
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for !fileExists(pidFile) {
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
	}()
	err := p.Revoke(ctx, provider.Credential{Value: secret.New(oldValue)})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Revoke = %v, want context.Canceled", err)
	}
	waitDead(t, readPid(t, pidFile))
}

func fileExists(path string) bool {
	b, err := os.ReadFile(path)
	return err == nil && bytes.HasSuffix(b, []byte("\n"))
}

func TestKilledBySignal(t *testing.T) {
	dir := t.TempDir()
	p := newProvider(t, provider.Settings{"create": []any{"true"}, "test": []any{script(t, dir, "term.sh", `kill -TERM $$`)}})
	err := p.Test(t.Context(), provider.Credential{Value: secret.New(newValue)})
	var ce *CommandError
	if !errors.As(err, &ce) || ce.Signal != "SIGTERM" || ce.ExitCode != -1 || !strings.Contains(err.Error(), "killed by SIGTERM") {
		t.Fatalf("error = %v", err)
	}
}

func TestStdoutLimit(t *testing.T) {
	dir := t.TempDir()
	big := script(t, dir, "big.sh", `head -c 2000000 /dev/zero | tr '\0' 'x'`)
	_, err := newProvider(t, provider.Settings{"create": []any{big}}).Create(t.Context(), provider.CreateRequest{RotationID: "r"})
	if err == nil || !strings.Contains(err.Error(), "more than 1048576 bytes") {
		t.Fatalf("Create = %v", err)
	}
}

func TestStartFailure(t *testing.T) {
	_, err := newProvider(t, provider.Settings{"create": []any{"./does-not-exist.sh"}, "dir": t.TempDir()}).
		Create(t.Context(), provider.CreateRequest{RotationID: "r", Current: provider.Credential{Value: secret.New(oldValue)}})
	if err == nil || !strings.Contains(err.Error(), "exec: create: start ./does-not-exist.sh: no such file or directory") {
		t.Fatalf("Create = %v", err)
	}
}

func TestAbsentCommandsSucceed(t *testing.T) {
	p := newProvider(t, provider.Settings{"create": []any{"false"}})
	c := provider.Credential{Value: secret.New(oldValue)}
	if err := p.Test(t.Context(), c); err != nil {
		t.Errorf("Test = %v", err)
	}
	if err := p.Revoke(t.Context(), c); err != nil {
		t.Errorf("Revoke = %v", err)
	}
}

func TestWorkingDirectory(t *testing.T) {
	project := t.TempDir()
	sub := filepath.Join(project, "scripts")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	script(t, project, "pwd.sh", `pwd`)
	script(t, sub, "pwd.sh", `pwd`)
	tests := []struct {
		name, dir, projectDir, want string
	}{
		{"project dir", "", project, project},
		{"relative dir", "scripts", project, sub},
		{"absolute dir", sub, "/nonexistent", sub},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := provider.Settings{"create": []any{"./pwd.sh"}}
			if tt.dir != "" {
				s["dir"] = tt.dir
			}
			ctx := provider.WithCall(t.Context(), provider.Call{ProjectDir: tt.projectDir})
			c, err := newProvider(t, s).Create(ctx, provider.CreateRequest{RotationID: "r"})
			if err != nil {
				t.Fatal(err)
			}
			if c.Value.Reveal() != tt.want {
				t.Errorf("ran in %q, want %q", c.Value.Reveal(), tt.want)
			}
		})
	}
}

func TestRedactionsOfMultiLineValue(t *testing.T) {
	pem := "-----BEGIN KEY-----\nAAAAline1secretAAAA\nBBBBline2secretBBBB\n-----END KEY-----"
	v := secret.New(pem)
	inv := invocation{action: ActionRevoke, oldValue: &v, stdin: v}
	// Only the end of the key reached the kept tail.
	got := stderrTail([]byte("BBBBline2secretBBBB\n-----END KEY-----\nfailed\n"), false, redactions(inv, nil, nil))
	if strings.Contains(got, "line2secret") || !strings.Contains(got, "failed") {
		t.Errorf("stderrTail = %q", got)
	}
}
