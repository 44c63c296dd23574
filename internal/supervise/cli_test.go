//go:build linux

package supervise

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCLIRunWatchListen runs the real `slickenv run --watch --listen` over
// a real store: `slickenv set` switches the served value without a failed
// request.
func TestCLIRunWatchListen(t *testing.T) {
	if testing.Short() {
		t.Skip("builds slickenv")
	}
	t.Parallel()
	root := t.TempDir()
	bin := filepath.Join(root, "slickenv")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/slickenv/slickenv/cmd/slickenv").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	home, dir := filepath.Join(root, "home"), filepath.Join(root, "proj")
	for _, d := range []string{home, dir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"), "XDG_DATA_HOME=" + filepath.Join(home, ".local", "share")}
	slickenv := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Dir, cmd.Env = dir, env
		return cmd
	}
	for _, args := range [][]string{{"init", "--project", "shop"}, {"set", "VALUE=one"}} {
		if out, err := slickenv(args...).CombinedOutput(); err != nil {
			t.Fatalf("slickenv %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	addr := freePort(t)
	run := slickenv("run", "--watch", "--poll", "100ms", "--listen", addr, "--ready-url", "/healthz", "--", os.Args[0], "__server")
	stderr := &syncBuffer{}
	run.Stderr = stderr
	if err := run.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- run.Wait() }()
	defer func() {
		run.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-waited:
			if err != nil {
				t.Errorf("slickenv run after SIGTERM: %v\n%s", err, stderr)
			}
		case <-time.After(10 * time.Second):
			run.Process.Kill()
			t.Errorf("slickenv run did not exit after SIGTERM")
		}
	}()
	waitServing(t, "http://"+addr+"/")
	load := startLoad("http://"+addr+"/", 5*time.Millisecond)
	eventually(t, 10*time.Second, "value one", func() bool { return load.current() == "one" })
	start := time.Now()
	if out, err := slickenv("set", "VALUE=two").CombinedOutput(); err != nil {
		t.Fatalf("slickenv set: %v\n%s", err, out)
	}
	eventually(t, 10*time.Second, "value two", func() bool { return load.current() == "two" })
	t.Logf("switched %v after `slickenv set`", time.Since(start).Round(time.Millisecond))
	requests, failures, _ := load.finish()
	if len(failures) > 0 {
		t.Errorf("%d of %d requests failed: %q", len(failures), requests, failures)
	}
	eventually(t, 10*time.Second, "the switch message", func() bool {
		return strings.Contains(stderr.String(), "v1 → v2: started pid")
	})
	if strings.Contains(stderr.String(), "two") {
		t.Errorf("stderr shows a value:\n%s", stderr)
	}
}
