// Package provider defines how slickenv manages one kind of credential at its
// source, and the registry of provider kinds.
//
// # Contract
//
// A rotation of variable NAME asks its provider, in order: Create a new
// credential while the old one stays valid; Test it the way the application
// uses it; and, once the new one is proven, Revoke the old one. On rollback
// it revokes the new one instead. Every method is keyed by the rotation id
// and idempotent: the engine may call it again after a crash, and a method
// must observe what already happened before acting (revoking a credential
// that is already revoked is success).
//
// Providers never see the store, the CLI or the server; they receive values
// as secret.Value and must never put one in an error, a log line or a child
// process's argv.
package provider

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/slickenv/slickenv/internal/secret"
)

// ErrSettings marks an invalid or missing provider setting. Such errors are
// reported before a rotation changes anything.
var ErrSettings = errors.New("invalid provider settings")

// Credential is one credential: the value the application sees in NAME, and
// non-secret metadata the provider needs later (a key id, a role name).
type Credential struct {
	Value secret.Value
	Meta  map[string]string
}

// CreateRequest asks for a new credential.
type CreateRequest struct {
	RotationID string     // stable across retries and resumes
	Env        string     // environment name
	Name       string     // variable name
	Current    Credential // the credential in use now; it must stay valid
	// Pending is the new value when the provider implements Generator: the
	// engine generated it and sealed it into the journal before calling
	// Create. Zero otherwise.
	Pending secret.Value
}

// Provider manages one kind of credential at its source.
type Provider interface {
	// Kind returns the registry name, e.g. "random".
	Kind() string
	// Create makes a new credential while the old one stays valid.
	// Idempotent per req.RotationID.
	Create(ctx context.Context, req CreateRequest) (Credential, error)
	// Test does what the application does with c (connect, read, write).
	Test(ctx context.Context, c Credential) error
	// Revoke makes c unusable. Idempotent: already revoked is success.
	Revoke(ctx context.Context, c Credential) error
}

// Generator is implemented by providers whose new value slickenv generates
// (and journals) before Create is called.
type Generator interface {
	Generate() (secret.Value, error)
}

// Detector recognises values this provider manages (step [1/5] without
// configuration).
type Detector interface {
	Detect(value secret.Value) bool
}

// UsageReporter reports how many sessions still use a credential (drain).
type UsageReporter interface {
	InUse(ctx context.Context, c Credential) (int, error)
}

// Companion is implemented by providers whose applications accept the
// previous value under a second variable during the window (for example
// NAME_PREVIOUS for HMAC keys). The engine sets that variable to the old
// value when it distributes the new one and removes it before revoking.
type Companion interface {
	PreviousName(name string) string
}

// Settings are a provider's `with:` settings from .slickenv.yaml, with
// ${NAME} references already resolved.
type Settings map[string]any

// Factory builds a provider from its settings. It returns an error wrapping
// ErrSettings for a missing or invalid setting.
type Factory func(s Settings) (Provider, error)

// Registry maps provider kinds to factories.
type Registry struct {
	factories map[string]Factory
	detectors map[string]func(secret.Value) bool
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{factories: map[string]Factory{}, detectors: map[string]func(secret.Value) bool{}}
}

// RegisterDetector adds the value recogniser of a registered kind, used
// when a secret names no provider. It is separate from the factory
// because detection happens before settings exist: detect must look at
// the value alone. Registering a detector for an unknown kind, or twice,
// panics (a programming error).
func (r *Registry) RegisterDetector(kind string, detect func(secret.Value) bool) {
	if _, ok := r.factories[kind]; !ok {
		panic("provider: detector for an unregistered kind: " + kind)
	}
	if _, dup := r.detectors[kind]; dup {
		panic("provider: detector registered twice: " + kind)
	}
	r.detectors[kind] = detect
}

// Detect returns the kinds whose detector recognises value, sorted. The
// caller decides what none or several mean; Detect never reveals value.
func (r *Registry) Detect(value secret.Value) []string {
	var kinds []string
	for kind, detect := range r.detectors {
		if detect(value) {
			kinds = append(kinds, kind)
		}
	}
	sort.Strings(kinds)
	return kinds
}

// Register adds a kind; registering a kind twice panics (a programming error).
func (r *Registry) Register(kind string, f Factory) {
	if _, dup := r.factories[kind]; dup {
		panic("provider: kind registered twice: " + kind)
	}
	r.factories[kind] = f
}

// Kinds lists the registered kinds, sorted.
func (r *Registry) Kinds() []string {
	out := make([]string, 0, len(r.factories))
	for k := range r.factories {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// New builds a provider of kind with settings. An unknown kind is an error
// listing the known ones.
func (r *Registry) New(kind string, s Settings) (Provider, error) {
	f, ok := r.factories[kind]
	if !ok {
		return nil, fmt.Errorf("unknown provider %q (known: %v)", kind, r.Kinds())
	}
	p, err := f(s)
	if err != nil {
		return nil, fmt.Errorf("provider %s: %w", kind, err)
	}
	return p, nil
}

// Terminator is implemented by providers that can end the sessions still
// using a credential (`rotate --force-revoke` after a drain timeout). It
// returns how many sessions it ended.
type Terminator interface {
	Terminate(ctx context.Context, c Credential) (int, error)
}

// Checker is implemented by providers that can verify, without changing
// anything, that a rotation of the current credential can proceed (the
// standby account exists, the admin may change it). `rotate --dry-run`
// reports what is missing; Create runs the same checks first anyway.
type Checker interface {
	Check(ctx context.Context, current Credential) error
}
