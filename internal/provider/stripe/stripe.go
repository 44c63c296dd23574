package stripe

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	stripeapi "github.com/stripe/stripe-go/v84"

	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/secret"
)

// Kind is the registry name of this provider.
const Kind = "stripe"

// Defaults of the settings.
const (
	DefaultAPIBase      = "https://api.stripe.com"
	DefaultNewKeyEnv    = "SLICKENV_STRIPE_NEW_KEY"
	DefaultOldExpiryEnv = "SLICKENV_STRIPE_OLD_KEY_EXPIRES_AT"
)

const (
	keyAPIBase      = "api_base"
	keyNewKeyEnv    = "new_key_env"
	keyOldExpiresAt = "old_key_expires_at"

	// Metadata of a created credential (non-secret, stored in the clear).
	MetaAccount         = "account"                 // acct_… both keys belong to
	MetaKeyKind         = "key_kind"                // "test-mode secret key"
	MetaRotation        = "rotation"                // the rotation that brought the key in
	MetaOldKeyExpiresAt = "previous_key_expires_at" // RFC 3339, when known
)

var (
	// ErrNoNewKey: the new key has not been handed over yet. The error
	// says where to roll the key and how to pass it.
	ErrNoNewKey = errors.New("the new stripe key is needed")
	// ErrMismatch: the new key is of another mode or kind, belongs to
	// another account, or is the current key.
	ErrMismatch = errors.New("the new stripe key does not match the current one")
	// ErrStillValid: Revoke found the old key still accepted without a
	// known expiry ahead (or after its expiry).
	ErrStillValid = errors.New("the previous stripe key is still accepted")
)

// Provider rotates Stripe keys with the Dashboard's roll (see the package
// documentation). It implements provider.Checker.
type Provider struct {
	backends   *stripeapi.Backends
	newKeyEnv  string
	oldExpires string // setting; "" means read DefaultOldExpiryEnv
	now        func() time.Time
}

var (
	_ provider.Provider = (*Provider)(nil)
	_ provider.Checker  = (*Provider)(nil)
	_ provider.Detector = (*Provider)(nil)
)

// New builds the provider from its settings; an unknown or malformed
// setting is an error wrapping provider.ErrSettings. No setting is
// required.
func New(s provider.Settings) (provider.Provider, error) {
	rest := maps.Clone(map[string]any(s))
	if rest == nil {
		rest = map[string]any{}
	}
	str := func(k string) (string, error) {
		v, ok := rest[k]
		delete(rest, k)
		if !ok || v == nil {
			return "", nil
		}
		sv, ok := v.(string)
		if !ok || strings.TrimSpace(sv) == "" {
			return "", fmt.Errorf("%s: expected a non-empty string: %w", k, provider.ErrSettings)
		}
		return sv, nil
	}
	base, err := str(keyAPIBase)
	if err != nil {
		return nil, err
	}
	if base == "" {
		base = DefaultAPIBase
	}
	if !strings.HasPrefix(base, "https://") && !strings.HasPrefix(base, "http://") {
		return nil, fmt.Errorf("%s: expected an http(s) URL: %w", keyAPIBase, provider.ErrSettings)
	}
	p := &Provider{newKeyEnv: DefaultNewKeyEnv, now: time.Now}
	if p.newKeyEnv, err = str(keyNewKeyEnv); err != nil {
		return nil, err
	}
	if p.newKeyEnv == "" {
		p.newKeyEnv = DefaultNewKeyEnv
	}
	if p.oldExpires, err = str(keyOldExpiresAt); err != nil {
		return nil, err
	}
	if p.oldExpires != "" {
		if _, err := time.Parse(time.RFC3339, p.oldExpires); err != nil {
			return nil, fmt.Errorf("%s: expected an RFC 3339 time such as 2026-12-01T18:00:00Z: %w", keyOldExpiresAt, provider.ErrSettings)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(rest)) {
		return nil, fmt.Errorf("%s: unknown setting (known: %s, %s, %s): %w", k, keyAPIBase, keyNewKeyEnv, keyOldExpiresAt, provider.ErrSettings)
	}
	retries := int64(0)
	p.backends = stripeapi.NewBackendsWithConfig(&stripeapi.BackendConfig{
		URL:               stripeapi.String(strings.TrimRight(base, "/")),
		HTTPClient:        &http.Client{Timeout: 30 * time.Second},
		MaxNetworkRetries: &retries,
		// The SDK's default logger writes request errors to stderr; they
		// may quote the Authorization header.
		LeveledLogger: &stripeapi.LeveledLogger{Level: stripeapi.LevelNull},
	})
	return p, nil
}

// Kind returns "stripe".
func (p *Provider) Kind() string { return Kind }

// Detect reports whether v is a Stripe secret or restricted key.
func (p *Provider) Detect(v secret.Value) bool { return Detect(v) }

// Check verifies, changing nothing, that Create can proceed: current is a
// Stripe key, the new key has been handed over, and it is of the same kind
// and account. It returns ErrNoNewKey (with the Dashboard link) when the
// key has not been rolled yet.
func (p *Provider) Check(ctx context.Context, current provider.Credential) error {
	_, err := p.prepare(ctx, current.Value, callName(ctx))
	return err
}

// Create returns the key the user rolled in the Dashboard, read from the
// new_key_env variable, after proving that both keys work and belong to
// one account. It changes nothing at Stripe, so it is idempotent: a
// repeated call returns the same key while the variable holds it. The old
// key stays valid until the expiry chosen in the Dashboard, recorded in
// the metadata when known (old_key_expires_at).
func (p *Provider) Create(ctx context.Context, req provider.CreateRequest) (provider.Credential, error) {
	c, err := p.prepare(ctx, req.Current.Value, req.Name)
	if err != nil {
		return provider.Credential{}, err
	}
	c.Meta[MetaRotation] = req.RotationID
	return c, nil
}

func (p *Provider) prepare(ctx context.Context, current secret.Value, name string) (provider.Credential, error) {
	oldKind, ok := kindOf(current)
	if !ok {
		return provider.Credential{}, fmt.Errorf("stripe: create: the current value of %s is not a Stripe secret or restricted key (sk_live_, sk_test_, rk_live_, rk_test_)", name)
	}
	newValue := secret.New(strings.TrimSpace(os.Getenv(p.newKeyEnv)))
	if newValue.IsEmpty() {
		return provider.Credential{}, fmt.Errorf("stripe: create: %w: open %s, roll the %s of %s with the old key expiring in at least the verification window (secrets.%s.verify.window) plus the time to deploy (a few hours is safe), "+
			"then run again with the new key in %s (export it or pipe it in; never on the command line) and the expiry you chose in %s (RFC 3339)",
			ErrNoNewKey, oldKind.dashboardURL(), oldKind, name, name, p.newKeyEnv, DefaultOldExpiryEnv)
	}
	newKind, ok := kindOf(newValue)
	switch {
	case !ok:
		return provider.Credential{}, fmt.Errorf("stripe: create: %w: %s does not hold a Stripe secret or restricted key", ErrMismatch, p.newKeyEnv)
	case newValue.Equal(current):
		return provider.Credential{}, fmt.Errorf("stripe: create: %w: %s holds the current key; roll it at %s first", ErrMismatch, p.newKeyEnv, oldKind.dashboardURL())
	case newKind != oldKind:
		return provider.Credential{}, fmt.Errorf("stripe: create: %w: the new key is a %s, the current one a %s", ErrMismatch, newKind, oldKind)
	}
	oldAcct, err := p.account(ctx, current)
	if err != nil {
		if isStatus(err, http.StatusUnauthorized) {
			return provider.Credential{}, fmt.Errorf("stripe: create: Stripe already rejects the current key of %s (rolled without an expiry, or expired): both keys cannot be valid at once; store the new key with `slickenv set` and redeploy", name)
		}
		return provider.Credential{}, fmt.Errorf("stripe: create: the current key: %w", err)
	}
	newAcct, err := p.account(ctx, newValue)
	if err != nil {
		return provider.Credential{}, fmt.Errorf("stripe: create: the new key from %s: %w", p.newKeyEnv, err)
	}
	if oldAcct != newAcct {
		return provider.Credential{}, fmt.Errorf("stripe: create: %w: the new key belongs to account %s, the current one to %s", ErrMismatch, newAcct, oldAcct)
	}
	meta := map[string]string{MetaAccount: newAcct, MetaKeyKind: newKind.String()}
	exp, err := p.oldKeyExpiry()
	if err != nil {
		return provider.Credential{}, fmt.Errorf("stripe: create: %w", err)
	}
	if !exp.IsZero() {
		meta[MetaOldKeyExpiresAt] = exp.UTC().Format(time.RFC3339)
	}
	return provider.Credential{Value: newValue, Meta: meta}, nil
}

// Test makes a real API call with c (GET /v1/balance). A restricted key
// that may not read the balance (403) is authenticated, and passes.
func (p *Provider) Test(ctx context.Context, c provider.Credential) error {
	if err := p.balance(ctx, c.Value); err != nil && !isStatus(err, http.StatusForbidden) {
		return fmt.Errorf("stripe: test: %w", err)
	}
	return nil
}

// Revoke cannot revoke anything at Stripe (there is no API for it); it
// confirms instead. A key Stripe rejects (401) is revoked: success. A key
// still accepted is success when it is the new key of this very rotation
// (a rollback: Stripe already made it the account's key, see the package
// documentation) or when its expiry is known and ahead (Stripe will expire
// it). Otherwise it returns ErrStillValid with what to do. Idempotent.
func (p *Provider) Revoke(ctx context.Context, c provider.Credential) error {
	err := p.balance(ctx, c.Value)
	switch {
	case isStatus(err, http.StatusUnauthorized):
		return nil
	case err != nil && !isStatus(err, http.StatusForbidden):
		return fmt.Errorf("stripe: revoke: %w", err)
	}
	call, _ := provider.CallFrom(ctx)
	if rot := c.Meta[MetaRotation]; rot != "" && rot == call.RotationID {
		return nil
	}
	exp, err := p.oldKeyExpiry()
	if err != nil {
		return fmt.Errorf("stripe: revoke: %w", err)
	}
	url := "the Dashboard's API keys page"
	if k, ok := kindOf(c.Value); ok {
		url = k.dashboardURL()
	}
	switch {
	case exp.IsZero():
		return fmt.Errorf("stripe: revoke: %w and its expiry is unknown: at %s make it expire (or delete it), then run `slickenv rotate %s --resume`; or set %s to the expiry you chose", ErrStillValid, url, call.Name, DefaultOldExpiryEnv)
	case p.now().Before(exp):
		return nil
	default:
		return fmt.Errorf("stripe: revoke: %w after its expiry at %s: check it at %s and run `slickenv rotate %s --resume`", ErrStillValid, exp.UTC().Format(time.RFC3339), url, call.Name)
	}
}

// oldKeyExpiry is the old key's expiry from the setting or the
// environment; zero when unknown.
func (p *Provider) oldKeyExpiry() (time.Time, error) {
	s, from := p.oldExpires, keyOldExpiresAt
	if s == "" {
		s, from = strings.TrimSpace(os.Getenv(DefaultOldExpiryEnv)), DefaultOldExpiryEnv
	}
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s: expected an RFC 3339 time such as 2026-12-01T18:00:00Z", from)
	}
	return t, nil
}

func callName(ctx context.Context) string {
	if c, ok := provider.CallFrom(ctx); ok && c.Name != "" {
		return c.Name
	}
	return "the variable"
}
