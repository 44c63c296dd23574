package providertest_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/provider/providertest"
	"github.com/slickenv/slickenv/internal/secret"
)

// source is an in-memory credential source: the set of accepted values.
type source struct {
	mu    sync.Mutex
	valid map[string]bool
	byRun map[string]string // rotation id → value made for it
	n     int
}

func newSource() *source { return &source{valid: map[string]bool{}, byRun: map[string]string{}} }

// memProvider makes its own values; memProvider with generate accepts the
// engine's.
type memProvider struct{ src *source }

func (p memProvider) Kind() string { return "memory" }

func (p memProvider) Create(ctx context.Context, req provider.CreateRequest) (provider.Credential, error) {
	p.src.mu.Lock()
	defer p.src.mu.Unlock()
	v, ok := p.src.byRun[req.RotationID]
	if !ok {
		p.src.n++
		v = "mem-" + req.RotationID + "-" + string(rune('a'+p.src.n%26))
		p.src.byRun[req.RotationID] = v
	}
	p.src.valid[v] = true
	return provider.Credential{Value: secret.New(v), Meta: map[string]string{"id": req.RotationID}}, nil
}

func (p memProvider) Test(ctx context.Context, c provider.Credential) error {
	p.src.mu.Lock()
	defer p.src.mu.Unlock()
	if !p.src.valid[c.Value.Reveal()] {
		return errors.New("memory: credential rejected")
	}
	return nil
}

func (p memProvider) Revoke(ctx context.Context, c provider.Credential) error {
	p.src.mu.Lock()
	defer p.src.mu.Unlock()
	delete(p.src.valid, c.Value.Reveal())
	return nil
}

type genProvider struct{ memProvider }

func (p genProvider) Generate() (secret.Value, error) {
	p.src.mu.Lock()
	defer p.src.mu.Unlock()
	p.src.n++
	return secret.New("gen-" + string(rune('a'+p.src.n%26)) + "-" + string(rune('a'+p.src.n/26%26))), nil
}

func (p genProvider) Create(ctx context.Context, req provider.CreateRequest) (provider.Credential, error) {
	p.src.mu.Lock()
	defer p.src.mu.Unlock()
	p.src.valid[req.Pending.Reveal()] = true
	return provider.Credential{Value: req.Pending}, nil
}

type harness struct{ src *source }

func (h harness) Current(ctx context.Context, t *testing.T) provider.Credential {
	h.src.mu.Lock()
	defer h.src.mu.Unlock()
	h.src.n++
	v := "current-" + t.Name() + string(rune('a'+h.src.n%26))
	h.src.valid[v] = true
	return provider.Credential{Value: secret.New(v)}
}

func (h harness) Works(ctx context.Context, t *testing.T, c provider.Credential) bool {
	h.src.mu.Lock()
	defer h.src.mu.Unlock()
	return h.src.valid[c.Value.Reveal()]
}

func TestRunInMemory(t *testing.T) {
	src := newSource()
	providertest.Run(t, func(*testing.T) provider.Provider { return memProvider{src} }, harness{src})
}

func TestRunInMemoryGenerator(t *testing.T) {
	src := newSource()
	providertest.Run(t, func(*testing.T) provider.Provider { return genProvider{memProvider{src}} }, harness{src})
}
