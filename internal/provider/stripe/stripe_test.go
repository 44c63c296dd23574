package stripe_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/provider/providertest"
	"github.com/slickenv/slickenv/internal/provider/stripe"
	"github.com/slickenv/slickenv/internal/secret"
	"github.com/slickenv/slickenv/internal/testenv"
)

func randomKey(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + hex.EncodeToString(b)
}

func newProvider(t *testing.T, s provider.Settings) provider.Provider {
	t.Helper()
	p, err := stripe.New(s)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return p
}

func cred(v string) provider.Credential { return provider.Credential{Value: secret.New(v)} }

func callCtx(t *testing.T, rotation string) context.Context {
	return provider.WithCall(t.Context(), provider.Call{RotationID: rotation, Env: "test", Name: "STRIPE_SECRET_KEY"})
}

// noKey fails t if err's text contains any of keys.
func noKey(t *testing.T, err error, keys ...string) {
	t.Helper()
	if err == nil {
		return
	}
	for _, k := range keys {
		if strings.Contains(err.Error(), k) {
			t.Errorf("error contains a key: %v", err)
		}
		// stripe-mock quotes the Authorization header in base64.
		if strings.Contains(err.Error(), "Basic ") || strings.Contains(err.Error(), "Bearer ") {
			t.Errorf("error quotes an Authorization header: %v", err)
		}
	}
}

func TestDetect(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  bool
	}{
		{"sk_live_51HabcDEF", true},
		{"sk_test_51HabcDEF", true},
		{"rk_live_51HabcDEF", true},
		{"rk_test_51HabcDEF", true},
		{"pk_live_51HabcDEF", false}, // publishable: not a secret
		{"sk_live_", false},
		{"sk_test_abc def", false},
		{"whsec_abc", false},
		{"postgres://u:p@h/db", false},
		{"", false},
	} {
		t.Run(tc.value, func(t *testing.T) {
			if got := stripe.Detect(secret.New(tc.value)); got != tc.want {
				t.Errorf("Detect = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSettings(t *testing.T) {
	for _, tc := range []struct {
		name string
		s    provider.Settings
		ok   bool
	}{
		{"none", nil, true},
		{"all", provider.Settings{"api_base": "http://127.0.0.1:1", "new_key_env": "X", "old_key_expires_at": "2026-12-01T18:00:00Z"}, true},
		{"unknown", provider.Settings{"admin_url": "x"}, false},
		{"bad base", provider.Settings{"api_base": "api.stripe.com"}, false},
		{"bad expiry", provider.Settings{"old_key_expires_at": "tomorrow"}, false},
		{"not a string", provider.Settings{"new_key_env": 3}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := stripe.New(tc.s)
			if tc.ok && err != nil {
				t.Fatalf("New: %v", err)
			}
			if !tc.ok && !errors.Is(err, provider.ErrSettings) {
				t.Fatalf("New = %v, want ErrSettings", err)
			}
		})
	}
}

// TestCreateMissingKey needs no server: the new key is checked first.
func TestCreateMissingKey(t *testing.T) {
	for _, tc := range []struct{ prefix, link string }{
		{"sk_test_", "https://dashboard.stripe.com/test/apikeys"},
		{"sk_live_", "https://dashboard.stripe.com/apikeys"},
		{"rk_live_", "https://dashboard.stripe.com/apikeys"},
	} {
		t.Run(tc.prefix, func(t *testing.T) {
			t.Setenv(stripe.DefaultNewKeyEnv, "")
			old := randomKey(t, tc.prefix)
			p := newProvider(t, provider.Settings{"api_base": "http://127.0.0.1:1"})
			_, err := p.Create(callCtx(t, "rot_1"), provider.CreateRequest{RotationID: "rot_1", Name: "STRIPE_SECRET_KEY", Current: cred(old)})
			if !errors.Is(err, stripe.ErrNoNewKey) {
				t.Fatalf("Create = %v, want ErrNoNewKey", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.link+",") || !strings.Contains(msg, stripe.DefaultNewKeyEnv) || !strings.Contains(msg, "verify.window") {
				t.Errorf("the error does not say where and how to roll the key: %v", err)
			}
			noKey(t, err, old)
			// --dry-run reports the same through Check.
			if err := p.(provider.Checker).Check(callCtx(t, ""), cred(old)); !errors.Is(err, stripe.ErrNoNewKey) {
				t.Errorf("Check = %v, want ErrNoNewKey", err)
			}
		})
	}
}

// TestCreateWrongKind needs no server: kinds are compared before any call.
func TestCreateWrongKind(t *testing.T) {
	for _, tc := range []struct{ old, new string }{
		{"sk_test_", "sk_live_"},
		{"sk_live_", "sk_test_"},
		{"sk_live_", "rk_live_"},
		{"rk_test_", "sk_test_"},
		{"sk_test_", "pk_test_"},
		{"sk_test_", "same"},
	} {
		t.Run(tc.old+"→"+tc.new, func(t *testing.T) {
			old := randomKey(t, tc.old)
			nk := randomKey(t, tc.new)
			if tc.new == "same" {
				nk = old
			}
			t.Setenv(stripe.DefaultNewKeyEnv, nk)
			p := newProvider(t, provider.Settings{"api_base": "http://127.0.0.1:1"})
			_, err := p.Create(callCtx(t, "rot_1"), provider.CreateRequest{RotationID: "rot_1", Name: "STRIPE_SECRET_KEY", Current: cred(old)})
			if !errors.Is(err, stripe.ErrMismatch) {
				t.Fatalf("Create = %v, want ErrMismatch", err)
			}
			noKey(t, err, old, nk)
		})
	}
}

func TestCreate(t *testing.T) {
	base := stripeMock(t)
	old, nk := randomKey(t, "sk_test_"), randomKey(t, "sk_test_")
	t.Setenv("MY_NEW_STRIPE_KEY", "  "+nk+"\n") // as pasted
	p := newProvider(t, provider.Settings{"api_base": base, "new_key_env": "MY_NEW_STRIPE_KEY", "old_key_expires_at": "2030-01-02T03:04:05Z"})
	ctx := callCtx(t, "rot_1")
	req := provider.CreateRequest{RotationID: "rot_1", Name: "STRIPE_SECRET_KEY", Current: cred(old)}
	c, err := p.Create(ctx, req)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if c.Value.Reveal() != nk {
		t.Fatal("Create did not return the key from new_key_env")
	}
	if !strings.HasPrefix(c.Meta[stripe.MetaAccount], "acct_") || c.Meta[stripe.MetaRotation] != "rot_1" ||
		c.Meta[stripe.MetaOldKeyExpiresAt] != "2030-01-02T03:04:05Z" || c.Meta[stripe.MetaKeyKind] != "test-mode secret key" {
		t.Errorf("meta = %v", c.Meta)
	}
	again, err := p.Create(ctx, req)
	if err != nil || !again.Value.Equal(c.Value) {
		t.Fatalf("repeated Create: %v (same key: %v)", err, again.Value.Equal(c.Value))
	}
	if err := p.Test(ctx, c); err != nil {
		t.Fatalf("Test: %v", err)
	}
}

// TestCreateOldKeyRejected: a key rolled without expiry is already dead;
// slickenv cannot offer a dual-active window and says so. stripe-mock
// rejects every live-mode key, which stands in for the expired one.
func TestCreateOldKeyRejected(t *testing.T) {
	base := testenv.Stripe(t)
	old, nk := randomKey(t, "sk_live_"), randomKey(t, "sk_live_")
	t.Setenv(stripe.DefaultNewKeyEnv, nk)
	p := newProvider(t, provider.Settings{"api_base": base})
	_, err := p.Create(callCtx(t, "rot_1"), provider.CreateRequest{RotationID: "rot_1", Name: "STRIPE_SECRET_KEY", Current: cred(old)})
	if err == nil || !strings.Contains(err.Error(), "already rejects the current key") {
		t.Fatalf("Create = %v, want the current key rejected", err)
	}
	noKey(t, err, old, nk)
}

// stripeMock starts a proxy in front of stripe-mock. stripe-mock answers
// /v1/account with a new random account id on every request, so the proxy
// rewrites the id of a successful /v1/account response to
// "acct_slickenv_test", or to "acct_someone_else" for the keys in others.
// Authentication (401 for anything but sk_test_/rk_test_ keys) stays
// stripe-mock's.
func stripeMock(t *testing.T, others ...string) string {
	t.Helper()
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
		key := strings.TrimPrefix(resp.Request.Header.Get("Authorization"), "Bearer ")
		if user, _, ok := resp.Request.BasicAuth(); ok {
			key = user
		}
		if slices.Contains(others, key) {
			body["id"] = "acct_someone_else"
		}
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

func TestCreateOtherAccount(t *testing.T) {
	old, nk := randomKey(t, "sk_test_"), randomKey(t, "sk_test_")
	base := stripeMock(t, nk)
	t.Setenv(stripe.DefaultNewKeyEnv, nk)
	p := newProvider(t, provider.Settings{"api_base": base})
	_, err := p.Create(callCtx(t, "rot_1"), provider.CreateRequest{RotationID: "rot_1", Name: "STRIPE_SECRET_KEY", Current: cred(old)})
	if !errors.Is(err, stripe.ErrMismatch) || !strings.Contains(err.Error(), "acct_someone_else") {
		t.Fatalf("Create = %v, want ErrMismatch naming the other account", err)
	}
	noKey(t, err, old, nk)
}

func TestTest(t *testing.T) {
	base := testenv.Stripe(t)
	p := newProvider(t, provider.Settings{"api_base": base})
	if err := p.Test(t.Context(), cred(randomKey(t, "sk_test_"))); err != nil {
		t.Errorf("Test(sk_test_): %v", err)
	}
	bad := randomKey(t, "sk_live_") // stripe-mock rejects live keys with 401
	err := p.Test(t.Context(), cred(bad))
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("Test(rejected key) = %v, want a 401 error", err)
	}
	noKey(t, err, bad)
}

func TestRevoke(t *testing.T) {
	base := testenv.Stripe(t)
	live := randomKey(t, "sk_test_")
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	for _, tc := range []struct {
		name     string
		key      string
		meta     map[string]string
		settings provider.Settings
		env      string
		wantErr  error
	}{
		{name: "rejected key is revoked", key: randomKey(t, "sk_live_")},
		{name: "expiry ahead (setting)", key: live, settings: provider.Settings{"old_key_expires_at": future}},
		{name: "expiry ahead (env)", key: live, env: future},
		{name: "expiry unknown", key: live, wantErr: stripe.ErrStillValid},
		{name: "still accepted after expiry", key: live, env: past, wantErr: stripe.ErrStillValid},
		{name: "new key on rollback", key: live, meta: map[string]string{stripe.MetaRotation: "rot_this"}},
		{name: "key of an earlier rotation", key: live, meta: map[string]string{stripe.MetaRotation: "rot_earlier"}, wantErr: stripe.ErrStillValid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv(stripe.DefaultOldExpiryEnv, tc.env)
			s := provider.Settings{"api_base": base}
			for k, v := range tc.settings {
				s[k] = v
			}
			p := newProvider(t, s)
			for range 2 { // idempotent
				err := p.Revoke(callCtx(t, "rot_this"), provider.Credential{Value: secret.New(tc.key), Meta: tc.meta})
				if tc.wantErr == nil && err != nil || tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
					t.Fatalf("Revoke = %v, want %v", err, tc.wantErr)
				}
				if tc.wantErr != nil && !strings.Contains(err.Error(), "https://dashboard.stripe.com/test/apikeys") {
					t.Errorf("the error does not link the Dashboard: %v", err)
				}
				noKey(t, err, tc.key)
			}
		})
	}
}

// harness runs the shared provider suite against stripe-mock. It declares
// AppManaged because stripe-mock accepts every sk_test_ key and has no
// notion of a revoked one: the suite's checks that a revoked key stops
// working cannot hold there (TestRevoke covers the 401 path with keys
// stripe-mock rejects). Everything else in the suite runs as is.
type harness struct{ base string }

func (harness) AppManaged() {}

func (h harness) Current(ctx context.Context, t *testing.T) provider.Credential {
	return cred(randomKey(t, "sk_test_"))
}

func (h harness) Works(ctx context.Context, t *testing.T, c provider.Credential) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, h.base+"/v1/balance", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(c.Value.Reveal(), "")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("stripe-mock: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func TestSuite(t *testing.T) {
	base := stripeMock(t)
	providertest.Run(t, func(t *testing.T) provider.Provider {
		// Each subtest's rotation: the user rolled the key and exported it,
		// choosing an expiry an hour ahead.
		t.Setenv(stripe.DefaultNewKeyEnv, randomKey(t, "sk_test_"))
		return newProvider(t, provider.Settings{"api_base": base, "old_key_expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	}, harness{base})
}
