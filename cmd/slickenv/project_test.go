package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	_ "modernc.org/sqlite"
)

// project is a slickenv project in a temporary directory with its own HOME
// and XDG directories, driven by running the real slickenv binary (the test
// binary, which testscript.Main put on PATH under that name).
type project struct {
	t    *testing.T
	root string // everything the project owns lives under root
	dir  string // the working directory, holding .slickenv.yaml
	home string
	env  []string
	bin  string              // the binary; "" means slickenv from PATH
	cred *syscall.Credential // run as another user when set
}

// newProject runs `slickenv init --project shop` in a fresh directory.
func newProject(t *testing.T) *project {
	t.Helper()
	root := t.TempDir()
	p := &project{t: t, root: root, dir: filepath.Join(root, "proj"), home: filepath.Join(root, "home")}
	for _, d := range []string{p.dir, p.home} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	p.env = cleanEnv(p.home)
	p.mustRun("", "init", "--project", "shop")
	return p
}

// cleanEnv is a minimal environment for slickenv: PATH and the given HOME
// with XDG directories under it, and no SLICKENV_* variables.
func cleanEnv(home string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		"XDG_CACHE_HOME=" + filepath.Join(home, ".cache"),
	}
	for _, k := range []string{"GOCOVERDIR", "GORACE", "TMPDIR"} {
		if v := os.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	return env
}

// withT returns a copy of p that reports to t (for subtests).
func (p *project) withT(t *testing.T) *project {
	q := *p
	q.t = t
	return &q
}

// with returns a copy of p whose commands also get the variables kv
// ("NAME=value"; later ones win).
func (p *project) with(kv ...string) *project {
	q := *p
	q.env = append(append([]string(nil), p.env...), kv...)
	return &q
}

func (p *project) storePath() string {
	return filepath.Join(p.home, ".local", "share", "slickenv", "projects", "shop.db")
}

func (p *project) identityPath() string {
	return filepath.Join(p.home, ".config", "slickenv", "identity")
}

// result is what one slickenv process did.
type result struct {
	stdout, stderr string
	code           int
}

func (p *project) command(stdin string, args ...string) *exec.Cmd {
	bin := p.bin
	if bin == "" {
		bin = "slickenv"
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = p.dir
	cmd.Env = p.env
	cmd.Stdin = strings.NewReader(stdin)
	if p.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	}
	return cmd
}

// run runs slickenv with stdin and args.
func (p *project) run(stdin string, args ...string) result {
	p.t.Helper()
	cmd := p.command(stdin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	return finish(p.t, cmd, cmd.Run(), &stdout, &stderr)
}

func finish(t *testing.T, cmd *exec.Cmd, err error, stdout, stderr *bytes.Buffer) result {
	t.Helper()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%v: %v", cmd.Args, err)
		}
		r.code = ee.ExitCode()
	}
	return r
}

// mustRun runs slickenv and fails the test unless it exits 0; it returns
// stdout.
func (p *project) mustRun(stdin string, args ...string) string {
	p.t.Helper()
	r := p.run(stdin, args...)
	if r.code != 0 {
		p.t.Fatalf("slickenv %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// expect runs slickenv and checks its exit code and that stderr contains
// each of the fragments.
func (p *project) expect(code int, stderrHas []string, stdin string, args ...string) result {
	p.t.Helper()
	r := p.run(stdin, args...)
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

// jsonOf runs slickenv and decodes its JSON output into v.
func (p *project) jsonOf(v any, args ...string) {
	p.t.Helper()
	out := p.mustRun("", args...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		p.t.Fatalf("slickenv %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// historyJSON is the shape of `history --json`.
type historyJSON struct {
	Env      string `json:"env"`
	Versions []struct {
		Version int64    `json:"version"`
		Kind    string   `json:"kind"`
		Actor   string   `json:"actor"`
		Names   []string `json:"names"`
	} `json:"versions"`
}

// auditJSON is the shape of one `audit --json` entry.
type auditJSON struct {
	Seq     int64           `json:"seq"`
	Actor   string          `json:"actor"`
	Action  string          `json:"action"`
	Env     string          `json:"env"`
	Name    string          `json:"name"`
	Version int64           `json:"version"`
	Detail  json.RawMessage `json:"detail"`
}

// openDB opens a store file directly, bypassing slickenv.
func openDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// copyFile copies src to dst with mode perm.
func copyFile(t *testing.T, src, dst string, perm os.FileMode) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, perm); err != nil {
		t.Fatal(err)
	}
}
