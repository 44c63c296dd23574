package cli

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serverEnv runs CLI commands in-process with their own HOME.
type serverEnv struct {
	t    *testing.T
	vars map[string]string
}

func (e *serverEnv) run(dir, stdin string, args ...string) (int, string, string) {
	e.t.Helper()
	var out, errb bytes.Buffer
	a := &App{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb, Getenv: func(k string) string { return e.vars[k] }, Wd: dir}
	code := Main(context.Background(), a, args)
	return code, out.String(), errb.String()
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func TestServerSession(t *testing.T) {
	home := t.TempDir()
	e := &serverEnv{t: t, vars: map[string]string{"HOME": home, "XDG_CONFIG_HOME": filepath.Join(home, "cfg"), "XDG_DATA_HOME": filepath.Join(home, "data")}}
	data := filepath.Join(home, "srv")
	code, token, stderr := e.run(home, "", "server", "init", "--data", data, "--project", "shop")
	token = strings.TrimSpace(token)
	if code != 0 || !strings.HasPrefix(token, "slk_") || !strings.Contains(stderr, "owner of project shop") {
		t.Fatalf("server init: %d %q %q", code, token, stderr)
	}
	if code, out, stderr := e.run(home, "", "server", "init", "--data", data, "--project", "shop"); code == 0 || out != "" || !strings.Contains(stderr, "already has a token") {
		t.Fatalf("second server init: %d %q %q", code, out, stderr)
	}
	addr := freeAddr(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		a := &App{Stdin: strings.NewReader(""), Stdout: &bytes.Buffer{}, Stderr: &bytes.Buffer{}, Getenv: func(k string) string { return e.vars[k] }}
		done <- runServer(ctx, a, ServerOptions{Listen: addr, Data: data, Timeout: 5 * time.Second})
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server: %v", err)
		}
	})
	url := "http://" + addr
	for i := 0; ; i++ {
		resp, err := http.Get(url + "/healthz")
		if err == nil && resp.StatusCode == 200 {
			resp.Body.Close()
			break
		}
		if i > 100 {
			t.Fatalf("server did not come up: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}

	if code, _, stderr := e.run(home, "slk_wrong\n", "login", url); code == 0 {
		t.Fatalf("login with a wrong token succeeded: %s", stderr)
	}
	if code, _, stderr := e.run(home, token+"\n", "login", url+"/"); code != 0 || !strings.Contains(stderr, "owner of project shop") {
		t.Fatalf("login: %d %s", code, stderr)
	}
	fi, err := os.Stat(filepath.Join(home, "cfg", "slickenv", "tokens.json"))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("tokens.json: %v %v", fi, err)
	}

	proj := filepath.Join(home, "proj")
	os.MkdirAll(proj, 0o755)
	os.WriteFile(filepath.Join(proj, ".slickenv.yaml"), []byte("project: shop\nstore: "+url+"\n"), 0o644)
	for _, args := range [][]string{{"init"}, {"set", "-e", "production", "DB=MARKER-cli-1"}, {"set", "-e", "production", "DB=MARKER-cli-2"}, {"rollback", "-e", "production", "--to", "1"}, {"audit", "verify"}} {
		if code, out, stderr := e.run(proj, "", args...); code != 0 {
			t.Fatalf("%v: %d %s %s", args, code, out, stderr)
		}
	}
	if code, out, stderr := e.run(proj, "", "get", "-e", "production", "DB"); code != 0 || strings.TrimSpace(out) != "MARKER-cli-1" {
		t.Fatalf("get: %d %q %s", code, out, stderr)
	}
	e.vars["SLICKENV_TOKEN"] = "slk_revoked_or_wrong"
	if code, _, _ := e.run(proj, "", "get", "-e", "production", "DB"); code == 0 {
		t.Fatal("SLICKENV_TOKEN did not override the saved token")
	}
	delete(e.vars, "SLICKENV_TOKEN")
	cancel()
	<-done
	done <- nil
	for _, f := range []string{"server.db", "server.db-wal"} {
		b, _ := os.ReadFile(filepath.Join(data, f))
		if bytes.Contains(b, []byte("MARKER-cli")) {
			t.Errorf("%s holds a plaintext value", f)
		}
	}
}
