package demo

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/slickenv/slickenv/examples/demoapp"
)

// Defaults of Options.
const (
	DefaultWindow = 10 * time.Second
	DefaultRate   = 50
	// MinWindow leaves the sender time to see the new key and switch to it
	// before the old one is revoked, as a real sender would need.
	MinWindow = time.Second
)

// afterRotation is how long the sender keeps sending once rotate is done.
const afterRotation = time.Second

// maxListedFailures bounds the failures listed one by one.
const maxListedFailures = 20

// Options configures Run.
type Options struct {
	// Self is the slickenv binary. The demo runs it for every slickenv
	// command and, as `Self __demoapp`, for the webhook receiver.
	Self string
	// Out receives the whole demo.
	Out io.Writer
	// Live redraws a status line with counters in place; set it only when
	// Out is a terminal.
	Live bool
	// Window is the verification window (DefaultWindow when zero; at least
	// MinWindow).
	Window time.Duration
	// Rate is the number of signed requests per second (DefaultRate when zero).
	Rate int
	// KeepDir keeps the temporary project instead of removing it.
	KeepDir bool
}

// ErrFailed is returned (wrapped, with the reason) when the demo ran but did
// not succeed: a signed request failed, the rotation did not finish, or the
// old key still works afterwards. Everything is reported on Out first.
var ErrFailed = errors.New("demo failed")

// Run runs the demo described in the package documentation. It returns an
// error wrapping ErrFailed when the demo ran but did not succeed, ctx's error
// when interrupted, and another error when it could not be set up. The app
// is always stopped, and the temporary directory removed unless KeepDir.
func Run(ctx context.Context, o Options) (err error) {
	if o.Self == "" || o.Out == nil {
		return errors.New("demo: Self and Out are required")
	}
	if o.Window == 0 {
		o.Window = DefaultWindow
	}
	if o.Window < MinWindow {
		return fmt.Errorf("a window of %s is too short: the sender needs time to switch to the new key before the old one is revoked (minimum %s)", o.Window, MinWindow)
	}
	if o.Rate <= 0 {
		o.Rate = DefaultRate
	}
	d := &demo{o: o, scr: &screen{w: o.Out, live: o.Live}, started: time.Now()}
	if d.p, err = newProject(o.Self); err != nil {
		return err
	}
	defer func() { err = errors.Join(err, d.cleanUp()) }()

	d.scr.printf("slickenv demo: rotate a webhook signing key while a live service receives signed traffic.")
	d.scr.printf("Everything below is real: processes, HTTP, HMAC signatures, and the slickenv commands shown.")
	d.scr.printf("")
	d.scr.printf("Throwaway project in %s, with its own HOME: your identity and stores are not touched.", d.p.root)
	d.scr.printf("")
	if err := d.setUp(ctx); err != nil {
		return err
	}
	if err := d.startApp(ctx); err != nil {
		return err
	}
	defer func() {
		if d.app != nil {
			err = errors.Join(err, d.stopApp())
		}
	}()

	// Traffic, and the sender's operator following the receiver.
	d.sender = newSender(d.app.baseURL, o.Rate, d.oldKey)
	trafficCtx, stopTraffic := context.WithCancel(ctx)
	defer stopTraffic()
	var traffic sync.WaitGroup
	view := &rotationView{scr: d.scr, sender: d.sender}
	f := &follower{baseURL: d.app.baseURL, envFile: d.p.path("app.env"), initial: d.oldKey, sender: d.sender, note: d.scr.note}
	traffic.Go(func() { d.sender.run(trafficCtx) })
	traffic.Go(func() { f.run(trafficCtx, d.health.Generation) })
	traffic.Go(func() { view.animate(trafficCtx) })
	d.scr.printf("✓ sending signed webhooks to POST /webhook, %d per second, signed with the current key", o.Rate)
	d.scr.printf("")
	if err := sleep(ctx, time.Second); err != nil {
		return err
	}

	d.scr.printf("$ slickenv rotate WEBHOOK_SECRET -e production --yes --json   (its events, rendered)")
	rot := rotate(ctx, d.p, view)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	d.reportRotation(rot)

	// A little more traffic on the new key, then proof that the old one is gone.
	if err := sleep(ctx, afterRotation); err != nil {
		return err
	}
	stopTraffic()
	traffic.Wait()
	var problems []string
	if rot.ok() {
		if err := d.proveRevoked(ctx); err != nil {
			problems = append(problems, err.Error())
		}
	}
	if err := d.stopApp(); err != nil {
		problems = append(problems, "the demo app did not stop cleanly")
	}
	d.app = nil

	problems = append(problems, d.showRecords(ctx)...)
	problems = append(problems, d.showTotals(rot)...)
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrFailed, strings.Join(problems, "; "))
	}
	d.scr.printf("✓ WEBHOOK_SECRET was rotated under live traffic, and every signed request was accepted.")
	return nil
}

// demo is one run of the demo.
type demo struct {
	o       Options
	scr     *screen
	started time.Time
	p       *project
	oldKey  []byte // WEBHOOK_SECRET before the rotation
	app     *app
	health  demoapp.Health // the app's health once it started
	sender  *sender
}

// setUp writes the project file, then runs init, set and export.
func (d *demo) setUp(ctx context.Context) error {
	addr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	cfg, err := d.p.writeConfig(addr, d.o.Window)
	if err != nil {
		return err
	}
	d.scr.printf("✓ wrote .slickenv.yaml:")
	d.scr.block(string(cfg))
	if _, err := d.p.run(ctx, nil, "init", "--project", "demo"); err != nil {
		return err
	}
	d.scr.printf("✓ slickenv init --project demo")
	if d.oldKey, err = randomKey(); err != nil {
		return err
	}
	stdin := strings.NewReader(string(d.oldKey) + "\n")
	if _, err := d.p.run(ctx, stdin, "set", "WEBHOOK_SECRET", "-", "-e", "production", "-m", "initial webhook key"); err != nil {
		return err
	}
	d.scr.printf("✓ slickenv set WEBHOOK_SECRET - -e production   (a random whsec_… key, on stdin)")
	if _, err := d.p.run(ctx, nil, "export", "-e", "production", "-o", "app.env"); err != nil {
		return err
	}
	d.scr.printf("✓ slickenv export -e production -o app.env")
	return nil
}

// startApp starts the receiver on the address in the project file, or on
// another one when someone took that port in the meantime.
func (d *demo) startApp(ctx context.Context) error {
	addr := d.p.addr
	for attempt := 1; ; attempt++ {
		a, h, err := startApp(ctx, d.p, addr)
		if err == nil {
			d.app, d.health = a, h
			break
		}
		if !errors.Is(err, errAddrInUse) || attempt == 3 {
			return err
		}
		if addr, err = freeLoopbackAddr(); err != nil {
			return err
		}
		if _, err = d.p.writeConfig(addr, d.o.Window); err != nil {
			return err
		}
	}
	d.scr.printf("✓ slickenv __demoapp --listen %s --env-file app.env --pid-file app.pid   (the webhook receiver, this binary)", addr)
	d.app.follow(func(line string) { d.scr.note("%s", line) })
	return nil
}

func (d *demo) stopApp() error {
	if err := d.app.stop(); err != nil {
		d.scr.printf("✗ the demo app did not stop cleanly: %v", err)
		return fmt.Errorf("%w: the demo app did not stop cleanly: %v", ErrFailed, err)
	}
	d.scr.printf("✓ stopped the demo app")
	return nil
}

func (d *demo) reportRotation(rot rotation) {
	c := d.sender.counts()
	d.scr.printf("")
	switch {
	case rot.ok():
		d.scr.printf("✓ rotation %s done; webhooks so far: %d sent, %d failed", rot.ID, c.Sent, c.Failed)
	case rot.ID == "":
		d.scr.printf("✗ slickenv rotate exited with code %d without starting a rotation", rot.ExitCode)
	default:
		d.scr.printf("✗ rotation %s: outcome %q, exit code %d", rot.ID, orDash(rot.Outcome), rot.ExitCode)
	}
	if !rot.ok() && rot.Message != "" && !strings.Contains(rot.Stderr, rot.Message) {
		d.scr.printf("  %s", rot.Message)
	}
	if !rot.ok() && len(rot.States) > 0 {
		d.scr.printf("  states: %s", strings.Join(rot.States, " → "))
	}
	d.scr.block(rot.Stderr)
}

// showRecords runs status, history and audit, and returns their failures.
func (d *demo) showRecords(ctx context.Context) (problems []string) {
	for _, args := range [][]string{{"status"}, {"history"}, {"audit", "--limit", "12"}} {
		d.scr.printf("")
		d.scr.printf("$ slickenv %s", strings.Join(args, " "))
		out, err := d.p.run(ctx, nil, args...)
		d.scr.block(string(out))
		if err != nil {
			d.scr.printf("✗ %v", err)
			problems = append(problems, err.Error())
		}
	}
	return problems
}

// showTotals prints the request totals and every failure, and returns what
// went wrong.
func (d *demo) showTotals(rot rotation) (problems []string) {
	c := d.sender.counts()
	d.scr.printf("")
	d.scr.printf("Webhooks: %d signed requests, %d failed (%d signed with the old key, %d with the new one).", c.Sent, c.Failed, c.ByKey[oldKey], c.ByKey[newKey])
	failures := d.sender.failed()
	for i, f := range failures {
		if i == maxListedFailures {
			d.scr.printf("  … and %d more", len(failures)-i)
			break
		}
		d.scr.printf("  ✗ %s", f)
	}
	if c.Failed > 0 {
		problems = append(problems, fmt.Sprintf("%d of %d signed requests failed", c.Failed, c.Sent))
	}
	if !rot.ok() {
		problems = append(problems, fmt.Sprintf("the rotation did not complete: %s (exit code %d)", orDash(rot.Outcome), rot.ExitCode))
	}
	d.scr.printf("Total time: %s.", time.Since(d.started).Round(100*time.Millisecond))
	return problems
}

// cleanUp removes the project, or tells how to look around in it.
func (d *demo) cleanUp() error {
	p := d.p
	if d.o.KeepDir {
		d.scr.printf("Kept %s. To look around:", p.root)
		d.scr.printf("  cd %s", p.dir)
		d.scr.printf("  export SLICKENV_IDENTITY_FILE=%s SLICKENV_STORE=%s",
			filepath.Join(p.home, ".config", "slickenv", "identity"),
			filepath.Join(p.home, ".local", "share", "slickenv", "projects", "demo.db"))
		return nil
	}
	if err := p.remove(); err != nil {
		d.scr.printf("✗ could not remove %s: %v", p.root, err)
		return err
	}
	d.scr.printf("✓ removed %s", p.root)
	return nil
}

// proveRevoked waits until the app has reloaded after the revoke (one key,
// a later generation) and checks that a request signed with the old key is
// refused.
func (d *demo) proveRevoked(ctx context.Context) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(3 * time.Second)
	for {
		h, err := health(ctx, client, d.app.baseURL)
		if err == nil && h.Keys == 1 && h.Generation > d.health.Generation {
			break
		}
		if time.Now().After(deadline) {
			d.scr.printf("✗ the app did not drop the old key after the rotation (health: %+v, %v)", h, err)
			return errors.New("the app did not drop the old key after the rotation")
		}
		if err := sleep(ctx, healthPoll); err != nil {
			return err
		}
	}
	body := []byte(`{"id":"evt_probe","type":"demo.probe"}`)
	status, err := post(ctx, client, d.app.baseURL+"/webhook", body, demoapp.Sign(d.oldKey, body))
	switch {
	case err != nil:
		d.scr.printf("✗ probe with the old key: %v", err)
		return fmt.Errorf("probe with the old key: %w", err)
	case status != http.StatusUnauthorized:
		d.scr.printf("✗ a request signed with the old key got HTTP %d: the old key still works", status)
		return fmt.Errorf("the old key still works after the rotation (HTTP %d)", status)
	}
	d.scr.printf("✓ a request signed with the old key is now refused (HTTP %d): it is revoked", status)
	return nil
}

// randomKey returns a key in the format the random provider generates:
// whsec_ and 32 random bytes in hex.
func randomKey() ([]byte, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	return []byte("whsec_" + hex.EncodeToString(b)), nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
