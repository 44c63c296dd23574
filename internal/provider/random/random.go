// Package random implements the random provider: secrets the application
// itself issues and checks, such as HMAC and webhook signing keys, session
// keys and API tokens handed to clients.
//
// # Settings
//
//	provider: random
//	with:
//	  length: 32           # bytes of entropy (hex, base64url) or characters (alnum); default 32
//	  encoding: base64url  # hex | base64url (RFC 4648 §5, unpadded) | alnum ([A-Za-z0-9]); default base64url
//	  prefix: whsec_       # prepended verbatim; default none
//	                       # (printable ASCII, at most 64 bytes, no space, quote, '\', '#' or '$')
//	  previous: NAME_PREVIOUS  # the companion variable; default NAME_PREVIOUS
//
// Every value carries at least 128 bits of entropy: length must be at least
// 16 for hex and base64url and at least 22 for alnum. Values come from
// crypto/rand; alnum characters are drawn by rejection sampling, so each of
// the 62 symbols is equally likely.
//
// # Rotation
//
// There is no source to talk to: the application is the source. slickenv
// generates the new value (the provider is a provider.Generator) and
// journals it before Create, which only returns it. During the verification
// window the application sees the new value in NAME and the old one in the
// companion variable (provider.Companion), and must accept both. Test checks
// the value's shape; the real verification is the configured checks. Revoke
// does nothing at a source: the engine revokes the old value by removing the
// companion variable.
package random

import (
	"context"
	"errors"
	"fmt"
	"maps"

	"github.com/slickenv/slickenv/internal/config"
	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/secret"
)

// Kind is the provider kind in .slickenv.yaml.
const Kind = "random"

// keyPrevious names the companion variable setting.
const keyPrevious = "previous"

// PreviousSuffix is appended to NAME to form the default companion variable.
const PreviousSuffix = "_PREVIOUS"

// Provider is the random provider. It implements provider.Provider,
// provider.Generator and provider.Companion. It is safe for concurrent use.
type Provider struct {
	spec     Spec
	previous string // "" for NAME + PreviousSuffix
}

var (
	_ provider.Provider  = (*Provider)(nil)
	_ provider.Generator = (*Provider)(nil)
	_ provider.Companion = (*Provider)(nil)
)

// New builds a random provider from its settings (see the package
// documentation). Unknown keys and invalid values are errors wrapping
// provider.ErrSettings that name the key. New is a provider.Factory.
func New(s provider.Settings) (provider.Provider, error) {
	p, err := newProvider(s)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func newProvider(s provider.Settings) (*Provider, error) {
	rest := maps.Clone(map[string]any(s))
	var p Provider
	if v, ok := rest[keyPrevious]; ok {
		delete(rest, keyPrevious)
		name, ok := v.(string)
		if !ok || !config.ValidSecretName(name) {
			return nil, settingsError(keyPrevious, "expected a variable name (letters, digits, '_', '.' or '-')")
		}
		p.previous = name
	}
	for _, k := range sortedKeys(rest) {
		if k != keyLength && k != keyEncoding && k != keyPrefix {
			return nil, unknownKeyError(k, keyLength, keyEncoding, keyPrefix, keyPrevious)
		}
	}
	spec, err := ParseSpec(rest)
	if err != nil {
		return nil, err
	}
	p.spec = spec
	return &p, nil
}

// Spec returns the shape of the values p generates.
func (p *Provider) Spec() Spec { return p.spec }

// Kind returns "random".
func (p *Provider) Kind() string { return Kind }

// Generate returns a new random value of the configured shape.
func (p *Provider) Generate() (secret.Value, error) { return p.spec.Generate() }

// PreviousName returns the companion variable that holds the old value
// during the window: the previous setting, or name + "_PREVIOUS".
func (p *Provider) PreviousName(name string) string {
	if p.previous != "" {
		return p.previous
	}
	return name + PreviousSuffix
}

// ErrNoPending is returned by Create when the request carries no generated
// value (the engine must call Generate and journal the value first).
var ErrNoPending = errors.New("no pending value: the engine must generate and journal the value before create")

// Create returns the value the engine generated, req.Pending. It is
// idempotent: the same request gives the same credential.
func (p *Provider) Create(ctx context.Context, req provider.CreateRequest) (provider.Credential, error) {
	if req.Pending.IsEmpty() {
		return provider.Credential{}, fmt.Errorf("random: create: %w", ErrNoPending)
	}
	return provider.Credential{Value: req.Pending}, nil
}

// Test checks that c.Value has the configured shape (prefix, encoding,
// length). The error wraps ErrShape and never contains the value. Whether the
// application accepts it is for the configured verification checks to prove.
func (p *Provider) Test(ctx context.Context, c provider.Credential) error {
	if err := p.spec.Check(c.Value); err != nil {
		return fmt.Errorf("random: test: %w", err)
	}
	return nil
}

// Revoke succeeds without doing anything: the old value lives only in the
// environment, and the engine revokes it by removing the companion variable.
func (p *Provider) Revoke(ctx context.Context, c provider.Credential) error { return nil }
