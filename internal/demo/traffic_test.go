package demo

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/slickenv/slickenv/examples/demoapp"
)

const (
	testOldKey = "whsec_1111111111111111111111111111111111111111111111111111111111111111"
	testNewKey = "whsec_2222222222222222222222222222222222222222222222222222222222222222"
)

// receiverFixture is the demo app in-process, with a way to play the
// rotation's targets: rewrite the env file, then reload.
type receiverFixture struct {
	t       *testing.T
	envFile string
	recv    *demoapp.Receiver
	srv     *httptest.Server
}

func newReceiverFixture(t *testing.T) *receiverFixture {
	f := &receiverFixture{t: t, envFile: filepath.Join(t.TempDir(), "app.env")}
	f.deploy("WEBHOOK_SECRET=" + testOldKey)
	recv, err := demoapp.NewReceiver(f.envFile)
	if err != nil {
		t.Fatal(err)
	}
	f.recv = recv
	f.srv = httptest.NewServer(recv.Handler())
	t.Cleanup(f.srv.Close)
	return f
}

// deploy writes the env file atomically, as the dotenv target does.
func (f *receiverFixture) deploy(lines ...string) {
	tmp := f.envFile + ".tmp"
	if err := os.WriteFile(tmp, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		f.t.Fatal(err)
	}
	if err := os.Rename(tmp, f.envFile); err != nil {
		f.t.Fatal(err)
	}
	if f.recv != nil {
		if _, err := f.recv.Reload(); err != nil {
			f.t.Fatal(err)
		}
	}
}

type noteLog struct {
	mu    sync.Mutex
	lines []string
}

func (n *noteLog) note(format string, args ...any) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.lines = append(n.lines, strings.TrimSpace(format))
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSenderFollowsDualKeyRotation(t *testing.T) {
	f := newReceiverFixture(t)
	snd := newSender(f.srv.URL, 200, []byte(testOldKey))
	notes := &noteLog{}
	fl := &follower{baseURL: f.srv.URL, envFile: f.envFile, initial: []byte(testOldKey), sender: snd, note: notes.note}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); snd.run(ctx) }()
	go func() { defer wg.Done(); fl.run(ctx, f.recv.Health().Generation) }()

	waitFor(t, "traffic", func() bool { return snd.counts().Sent >= 10 })
	f.deploy("WEBHOOK_SECRET="+testNewKey, "WEBHOOK_SECRET_PREVIOUS="+testOldKey)
	waitFor(t, "the sender to switch", func() bool { return snd.counts().Key == newKey })
	before := snd.counts().ByKey[newKey]
	waitFor(t, "traffic with the new key", func() bool { return snd.counts().ByKey[newKey] >= before+10 })
	f.deploy("WEBHOOK_SECRET=" + testNewKey) // revoke
	waitFor(t, "traffic after the revoke", func() bool { return snd.counts().ByKey[newKey] >= before+20 })
	cancel()
	wg.Wait()

	c := snd.counts()
	if c.Failed != 0 || c.OK != c.Sent {
		t.Errorf("counts = %+v; failures: %v", c, snd.failed())
	}
	if c.ByKey[oldKey] == 0 || c.ByKey[newKey] == 0 {
		t.Errorf("counts = %+v; want traffic with both keys", c)
	}
	if len(notes.lines) != 1 || !strings.Contains(notes.lines[0], "accepts both keys") {
		t.Errorf("notes = %q", notes.lines)
	}
}

// Without a window in which both keys are valid, the sender's requests fail
// until it follows; the demo must count and list those failures.
func TestSenderReportsFailuresOfAHardSwap(t *testing.T) {
	f := newReceiverFixture(t)
	snd := newSender(f.srv.URL, 200, []byte(testOldKey))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); snd.run(ctx) }()

	waitFor(t, "traffic", func() bool { return snd.counts().Sent >= 5 })
	f.deploy("WEBHOOK_SECRET=" + testNewKey)
	waitFor(t, "failures", func() bool { return snd.counts().Failed >= 3 })
	notes := &noteLog{}
	fl := &follower{baseURL: f.srv.URL, envFile: f.envFile, initial: []byte(testOldKey), sender: snd, note: notes.note}
	followed := make(chan struct{})
	go func() { defer close(followed); fl.run(ctx, 1) }()
	// Once a request signed with the new key has completed, none signed with
	// the old one is still in flight.
	waitFor(t, "the sender to follow", func() bool { return snd.counts().ByKey[newKey] >= 1 })
	failed := snd.counts().Failed
	waitFor(t, "traffic with the new key", func() bool { return snd.counts().ByKey[newKey] >= 5 })
	cancel()
	<-done
	<-followed

	if got := snd.counts().Failed; got != failed {
		t.Errorf("failures went on after the switch: %d → %d", failed, got)
	}
	for _, fl := range snd.failed() {
		if fl.Status != 401 || fl.Key != oldKey || fl.At.IsZero() {
			t.Errorf("failure = %+v", fl)
		}
		if s := fl.String(); !strings.Contains(s, "HTTP 401 Unauthorized") || !strings.Contains(s, "old key") {
			t.Errorf("failure line = %q", s)
		}
	}
	if len(notes.lines) != 1 || !strings.Contains(notes.lines[0], "holds only") {
		t.Errorf("notes = %q", notes.lines)
	}
}

func TestIsolatedEnv(t *testing.T) {
	in := []string{
		"PATH=/usr/bin", "HOME=/home/me", "XDG_CONFIG_HOME=/home/me/.config", "XDG_DATA_HOME=/x",
		"SLICKENV_STORE=/home/me/prod.db", "SLICKENV_IDENTITY=AGE-SECRET-KEY-1", "SLICKENV_ENV=staging",
		"WEBHOOK_SECRET=whsec_real", "WEBHOOK_SECRET_PREVIOUS=whsec_old", "LISTEN_FDS=1", "TERM=xterm",
	}
	got := isolatedEnv(in, "/tmp/demo/home")
	want := []string{
		"PATH=/usr/bin", "TERM=xterm", "HOME=/tmp/demo/home",
		"XDG_CONFIG_HOME=/tmp/demo/home/.config", "XDG_DATA_HOME=/tmp/demo/home/.local/share",
		"XDG_STATE_HOME=/tmp/demo/home/.local/state", "XDG_CACHE_HOME=/tmp/demo/home/.cache",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("isolatedEnv =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
