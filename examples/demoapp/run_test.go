package demoapp

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server's and the test's goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func getHealth(t *testing.T, base string) Health {
	t.Helper()
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var h Health
	if err := json.NewDecoder(resp.Body).Decode(&h); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestRunReloadsOnSIGHUP runs the real server and sends this process a real
// SIGHUP, as slickenv's signal target does.
func TestRunReloadsOnSIGHUP(t *testing.T) {
	dir := t.TempDir()
	envFile, pidFile := filepath.Join(dir, "app.env"), filepath.Join(dir, "app.pid")
	writeEnv(t, envFile, "WEBHOOK_SECRET="+oldSecret)
	var stdout, stderr syncBuffer
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Options{Listen: "127.0.0.1:0", EnvFile: envFile, PidFile: pidFile, Stdout: &stdout, Stderr: &stderr})
	}()

	addr := regexp.MustCompile(`listening on (http://\S+)`)
	eventually(t, "the server to start", func() bool { return addr.MatchString(stdout.String()) })
	base := addr.FindStringSubmatch(stdout.String())[1]
	pid, err := os.ReadFile(pidFile)
	if err != nil || string(pid) != strconv.Itoa(os.Getpid())+"\n" {
		t.Fatalf("pid file = %q, %v", pid, err)
	}
	if h := getHealth(t, base); h.Keys != 1 || h.Generation != 1 {
		t.Fatalf("health before reload = %+v", h)
	}

	writeEnv(t, envFile, "WEBHOOK_SECRET="+newSecret, "WEBHOOK_SECRET_PREVIOUS="+oldSecret)
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the reload", func() bool { h := getHealth(t, base); return h.Keys == 2 && h.Generation == 2 })
	body := []byte(`{"id":"evt_3"}`)
	for _, secret := range []string{oldSecret, newSecret} {
		if got := post(t, base, body, Sign([]byte(secret), body)); got != 200 {
			t.Errorf("during the window: %d", got)
		}
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not shut down")
	}
	if _, err := os.Stat(pidFile); !os.IsNotExist(err) {
		t.Errorf("pid file left behind: %v", err)
	}
	logs := stdout.String() + stderr.String()
	if !strings.Contains(logs, "reloaded: 2 keys (generation 2)") {
		t.Errorf("log lacks the reload line:\n%s", logs)
	}
	for _, s := range []string{oldSecret, newSecret} {
		if strings.Contains(logs, s) {
			t.Errorf("log reveals a secret:\n%s", logs)
		}
	}
}

func TestRunFailsWithoutSecret(t *testing.T) {
	envFile := filepath.Join(t.TempDir(), "app.env")
	writeEnv(t, envFile, "OTHER=1")
	err := Run(context.Background(), Options{Listen: "127.0.0.1:0", EnvFile: envFile})
	if err == nil || !strings.Contains(err.Error(), "WEBHOOK_SECRET is not set") {
		t.Fatalf("Run = %v", err)
	}
}
