package demo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/slickenv/slickenv/internal/config"
)

// project is the throwaway project: a directory tree of its own and the
// environment every child process runs with.
type project struct {
	self string   // the slickenv binary
	root string   // the temporary directory holding everything
	dir  string   // the project directory: .slickenv.yaml, app.env, app.pid
	home string   // HOME of every child process
	env  []string // environment of every child process
	addr string   // the app's address, as written in .slickenv.yaml
}

// newProject creates the directories. The children get a HOME and XDG
// directories inside root, and none of the variables that would point them
// at the user's identity or store.
func newProject(self string) (*project, error) {
	root, err := os.MkdirTemp("", "slickenv-demo-")
	if err != nil {
		return nil, fmt.Errorf("create the demo directory: %w", err)
	}
	p := &project{self: self, root: root, dir: filepath.Join(root, "project"), home: filepath.Join(root, "home")}
	for _, d := range []string{p.dir, p.home} {
		if err := os.Mkdir(d, 0o700); err != nil {
			os.RemoveAll(root)
			return nil, fmt.Errorf("create the demo directory: %w", err)
		}
	}
	p.env = isolatedEnv(os.Environ(), p.home)
	return p, nil
}

// isolatedEnv returns environ without the variables that locate slickenv's
// identity and stores (or leak a webhook key or a socket into the demo app),
// and with HOME and the XDG directories under home.
func isolatedEnv(environ []string, home string) []string {
	out := make([]string, 0, len(environ)+5)
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case name == "HOME",
			strings.HasPrefix(name, "XDG_"),
			strings.HasPrefix(name, "SLICKENV_"),
			strings.HasPrefix(name, "WEBHOOK_SECRET"),
			strings.HasPrefix(name, "LISTEN_"):
			continue
		}
		out = append(out, kv)
	}
	return append(out,
		"HOME="+home,
		"XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_DATA_HOME="+filepath.Join(home, ".local", "share"),
		"XDG_STATE_HOME="+filepath.Join(home, ".local", "state"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
	)
}

func (p *project) path(name string) string { return filepath.Join(p.dir, name) }

// command returns `slickenv ARGS…` in the project directory.
func (p *project) command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, p.self, args...)
	cmd.Dir = p.dir
	cmd.Env = p.env
	// Interrupted: let slickenv stop cleanly rather than killing it.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// run runs `slickenv ARGS…` with stdin and returns its stdout. Its error
// carries slickenv's own error lines.
func (p *project) run(ctx context.Context, stdin io.Reader, args ...string) ([]byte, error) {
	cmd := p.command(ctx, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return stdout.Bytes(), fmt.Errorf("slickenv %s: %s", strings.Join(args, " "), msg)
	}
	return stdout.Bytes(), nil
}

// configYAML is the .slickenv.yaml of the demo: WEBHOOK_SECRET rotates with
// the random provider, reaches the app through app.env and a SIGHUP, and is
// verified by the app's health endpoint for the whole window.
const configYAML = `project: demo
default_env: production
policy: { warn_after: 60d, max_age: 90d }
secrets:
  WEBHOOK_SECRET:
    provider: random
    with: { length: 32, encoding: hex, prefix: "whsec_" }
    targets:
      - dotenv: ./app.env
      - signal: { pidfile: ./app.pid, signal: HUP }
    verify:
      window: %s
      checks:
        - http: { url: "http://%s/healthz", every: 500ms, min_success: 1.0 }
`

// writeConfig writes .slickenv.yaml for an app listening on addr.
func (p *project) writeConfig(addr string, window time.Duration) ([]byte, error) {
	data := fmt.Appendf(nil, configYAML, config.Duration(window), addr)
	if err := os.WriteFile(p.path(".slickenv.yaml"), data, 0o644); err != nil {
		return nil, fmt.Errorf("write .slickenv.yaml: %w", err)
	}
	p.addr = addr
	return data, nil
}

func (p *project) remove() error { return os.RemoveAll(p.root) }
