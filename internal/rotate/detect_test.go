package rotate_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slickenv/slickenv/internal/environment"
	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/provider/random"
	"github.com/slickenv/slickenv/internal/provider/stripe"
	"github.com/slickenv/slickenv/internal/rotate"
	"github.com/slickenv/slickenv/internal/secret"
	"github.com/slickenv/slickenv/internal/store"
	"github.com/slickenv/slickenv/internal/testenv"
)

// configNoProvider has WEBHOOK_SECRET without provider: step [1/5] detects it.
const configNoProvider = `project: shop
secrets:
  WEBHOOK_SECRET:
    targets:
      - dotenv: ./app.env
    verify:
      window: 150ms
      checks:
        - http: { url: "%s", every: 20ms, min_success: 1.0 }
`

func (f *fixture) setValue(v string) {
	f.t.Helper()
	if _, err := f.env.Apply(context.Background(), environment.Change{Kind: store.KindSet, Set: []environment.Pair{{Name: secretName, Value: secret.New(v)}}}); err != nil {
		f.t.Fatal(err)
	}
}

func detail(events []rotate.Event, step int, status string) string {
	for _, e := range events {
		if e.Kind == "step" && e.Step == step && e.Status == status {
			return e.Detail
		}
	}
	return ""
}

func TestDetectNotConfigured(t *testing.T) {
	for _, tc := range []struct {
		name, value, want string
		several           bool
		wantErr           error
	}{
		{name: "none", value: oldValue, want: "its value matches none", wantErr: rotate.ErrNotConfigured},
		{name: "several", value: "sk_test_abc", several: true, want: "matches several (also-stripe, stripe)", wantErr: rotate.ErrNotConfigured},
		{name: "settings missing", value: "postgres://app:pw@127.0.0.1:1/shop", want: "provider detected from the value", wantErr: provider.ErrSettings},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.setConfig(fmt.Sprintf(configNoProvider, f.srv.URL))
			if tc.value != oldValue {
				f.setValue(tc.value)
			}
			if tc.several {
				f.registry.Register("also-stripe", random.New)
				f.registry.RegisterDetector("also-stripe", func(v secret.Value) bool { return strings.HasPrefix(v.Reveal(), "sk_") })
			}
			before := len(f.versions())
			_, err := f.engine(nil, nil).Start(context.Background())
			if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Start = %v, want %v containing %q", err, tc.wantErr, tc.want)
			}
			if strings.Contains(err.Error(), tc.value) {
				t.Errorf("the error contains the value: %v", err)
			}
			if got := len(f.versions()); got != before {
				t.Errorf("%d versions after a failed detection, want %d", got, before)
			}
		})
	}
}

// TestDetectedRotation rotates a value whose provider is detected, and
// checks that configuration wins over detection.
func TestDetectedRotation(t *testing.T) {
	f := newFixture(t)
	f.setConfig(fmt.Sprintf(configNoProvider, f.srv.URL))
	f.registry.RegisterDetector(random.Kind, func(v secret.Value) bool { return strings.HasPrefix(v.Reveal(), "whsec_") })
	var events []rotate.Event
	outcome, err := f.engine(&events, nil).Start(context.Background())
	if err != nil || outcome != rotate.OutcomeDone {
		t.Fatalf("Start = %s, %v", outcome, err)
	}
	want := "random (detected from the value's shape; set secrets.WEBHOOK_SECRET.provider to pin it)"
	if got := detail(events, 1, "ok"); got != want {
		t.Errorf("step 1 detail = %q, want %q", got, want)
	}
}

func TestConfigWinsOverDetection(t *testing.T) {
	f := newFixture(t) // provider: random in the config
	f.registry.Register("also-random", random.New)
	f.registry.RegisterDetector("also-random", func(secret.Value) bool { return true })
	var events []rotate.Event
	if _, err := f.engine(&events, nil).Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := detail(events, 1, "ok"); got != "random" {
		t.Errorf("step 1 detail = %q, want random", got)
	}
}

// TestDetectedStripeRotation is `slickenv rotate` of a Stripe key with no
// configuration, against stripe-mock: detect, take the rolled key from the
// environment, prove it, distribute, verify, confirm the old key's expiry.
// Detected providers get no settings; this registry points stripe at
// stripe-mock, as api_base would.
func TestDetectedStripeRotation(t *testing.T) {
	base := oneAccountStripeMock(t)
	f := newFixture(t)
	f.setConfig(fmt.Sprintf(configNoProvider, f.srv.URL))
	f.registry = provider.NewRegistry()
	f.registry.Register(stripe.Kind, func(s provider.Settings) (provider.Provider, error) {
		s = maps.Clone(s)
		if s == nil {
			s = provider.Settings{}
		}
		s["api_base"] = base
		return stripe.New(s)
	})
	f.registry.RegisterDetector(stripe.Kind, stripe.Detect)
	f.setValue("sk_test_old0123456789")
	t.Setenv(stripe.DefaultNewKeyEnv, "sk_test_new0123456789")
	t.Setenv(stripe.DefaultOldExpiryEnv, time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	var events []rotate.Event
	outcome, err := f.engine(&events, nil).Start(context.Background())
	if err != nil || outcome != rotate.OutcomeDone {
		t.Fatalf("Start = %s, %v", outcome, err)
	}
	if got, want := detail(events, 1, "ok"), "stripe (detected from the value's shape; set secrets.WEBHOOK_SECRET.provider to pin it)"; got != want {
		t.Errorf("step 1 detail = %q, want %q", got, want)
	}
	if got, _ := f.value(secretName); got != "sk_test_new0123456789" {
		t.Errorf("%s is not the rolled key after the rotation", secretName)
	}
	if got := f.dotenvEntries()[secretName]; got != "sk_test_new0123456789" {
		t.Errorf("app.env does not hold the rolled key")
	}
	r := f.rotation()
	if r.State != rotate.StateDone || r.NewMeta[stripe.MetaOldKeyExpiresAt] == "" || r.NewMeta[stripe.MetaAccount] != "acct_slickenv_test" {
		t.Errorf("journal: state %s, new meta %v", r.State, r.NewMeta)
	}
}

// oneAccountStripeMock fronts stripe-mock with a proxy that gives every
// key one account id: stripe-mock makes up a new one per request.
func oneAccountStripeMock(t *testing.T) string {
	u, err := url.Parse(testenv.Stripe(t))
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.URL.Path != "/v1/account" || resp.StatusCode != http.StatusOK {
			return nil
		}
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			return err
		}
		resp.Body.Close()
		body["id"] = "acct_slickenv_test"
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
		return nil
	}
	srv := httptest.NewServer(proxy)
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestStripeWithoutNewKey: before the key is rolled, the rotation stops at
// create with the Dashboard link, and the value is left as it was.
func TestStripeWithoutNewKey(t *testing.T) {
	f := newFixture(t)
	f.setConfig(fmt.Sprintf(configNoProvider, f.srv.URL))
	f.registry = provider.NewRegistry()
	f.registry.Register(stripe.Kind, func(provider.Settings) (provider.Provider, error) {
		return stripe.New(provider.Settings{"api_base": "http://127.0.0.1:1"})
	})
	f.registry.RegisterDetector(stripe.Kind, stripe.Detect)
	f.setValue("sk_live_old0123456789")
	t.Setenv(stripe.DefaultNewKeyEnv, "")
	if _, err := f.engine(nil, nil).Plan(context.Background()); !errors.Is(err, stripe.ErrNoNewKey) {
		t.Errorf("Plan = %v, want ErrNoNewKey", err)
	}
	outcome, err := f.engine(nil, nil).Start(context.Background())
	if !errors.Is(err, stripe.ErrNoNewKey) || !strings.Contains(err.Error(), "https://dashboard.stripe.com/apikeys") {
		t.Fatalf("Start = %s, %v; want ErrNoNewKey with the Dashboard link", outcome, err)
	}
	if strings.Contains(err.Error(), "old0123456789") {
		t.Errorf("the error contains the key: %v", err)
	}
	if got, _ := f.value(secretName); got != "sk_live_old0123456789" {
		t.Errorf("%s changed", secretName)
	}
	var kinds []string
	for _, v := range f.versions() {
		kinds = append(kinds, v.Kind)
	}
	if outcome != rotate.OutcomeRolledBack || strings.Join(kinds, ",") != "set,set" {
		t.Errorf("outcome %s, versions (newest first) %v; want rolled_back and no new version", outcome, kinds)
	}
}
