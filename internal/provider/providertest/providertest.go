// Package providertest is the test suite every provider.Provider passes.
//
// A provider's test calls Run with a constructor and a Harness that
// observes the credential's source (the database, the API, a state file):
//
//	func TestSuite(t *testing.T) {
//		srv := startServer(t) // or skip when SLICKENV_TEST_* is unset
//		providertest.Run(t, func(t *testing.T) provider.Provider {
//			p, err := postgres.New(provider.Settings{...})
//			if err != nil {
//				t.Fatal(err)
//			}
//			return p
//		}, harness{srv})
//	}
//
// The suite checks the contract of package provider: Create leaves the
// current credential valid; a created credential passes Test and is
// accepted at the source; Revoke makes it unusable and is idempotent;
// Create is idempotent per rotation id; a Generator's Create returns the
// journaled value; no error contains a value.
package providertest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/secret"
)

// Harness is a provider's view of its source, for the suite.
type Harness interface {
	// Current returns a fresh credential that works at the source now, as
	// the one in use before a rotation. It is called once per subtest;
	// clean up with t.Cleanup.
	Current(ctx context.Context, t *testing.T) provider.Credential
	// Works reports whether the source accepts c now, the way the
	// application would use it (log in, verify a signature). A failure of
	// the harness itself is reported with t.Fatal, not as false.
	Works(ctx context.Context, t *testing.T, c provider.Credential) bool
}

// AppManaged is implemented by harnesses of providers with no source to
// revoke at (random): the application accepts whatever values its
// environment holds, and the engine revokes by removing NAME_PREVIOUS. The
// suite then does not expect Works to turn false after Revoke.
type AppManaged interface {
	AppManaged()
}

// Run runs the suite as subtests of t. newProvider is called once per
// subtest.
func Run(t *testing.T, newProvider func(t *testing.T) provider.Provider, h Harness) {
	_, appManaged := h.(AppManaged)
	s := suite{newProvider: newProvider, h: h, revocable: !appManaged}
	t.Run("Kind", s.kind)
	t.Run("CreateTestRollback", s.createTestRollback)
	t.Run("CreateTestRevokeOld", s.createTestRevokeOld)
	t.Run("CreateIdempotent", s.createIdempotent)
	t.Run("ErrorsOmitValues", s.errorsOmitValues)
}

type suite struct {
	newProvider func(t *testing.T) provider.Provider
	h           Harness
	revocable   bool
}

// rotation is one rotation's request, and the context its calls carry.
type rotation struct {
	ctx context.Context
	req provider.CreateRequest
}

func (s suite) begin(t *testing.T, p provider.Provider) rotation {
	t.Helper()
	ctx := t.Context()
	cur := s.h.Current(ctx, t)
	if !s.h.Works(ctx, t, cur) {
		t.Fatal("harness: Current returned a credential that does not work")
	}
	req := provider.CreateRequest{
		RotationID: "rot_test_" + randomHex(t, 6),
		Env:        "test",
		Name:       "SUITE_SECRET",
		Current:    cur,
	}
	if g, ok := p.(provider.Generator); ok {
		v, err := g.Generate()
		if err != nil {
			t.Fatalf("Generate: %v", err)
		}
		if v.IsEmpty() {
			t.Fatal("Generate returned an empty value")
		}
		req.Pending = v
	}
	ctx = provider.WithCall(ctx, provider.Call{RotationID: req.RotationID, Env: req.Env, Name: req.Name})
	return rotation{ctx, req}
}

// create calls Create and checks what every new credential must satisfy.
func (s suite) create(t *testing.T, p provider.Provider, r rotation) provider.Credential {
	t.Helper()
	c, err := p.Create(r.ctx, r.req)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if c.Value.IsEmpty() {
		t.Fatal("Create returned an empty value")
	}
	if c.Value.Equal(r.req.Current.Value) {
		t.Fatal("Create returned the current value")
	}
	if _, ok := p.(provider.Generator); ok && !c.Value.Equal(r.req.Pending) {
		t.Fatal("Create of a Generator did not return the pending value")
	}
	return c
}

func (s suite) kind(t *testing.T) {
	p := s.newProvider(t)
	k := p.Kind()
	if k == "" || strings.ToLower(k) != k || strings.ContainsAny(k, " \t\n") {
		t.Errorf("Kind() = %q: want a lower-case word", k)
	}
}

// createTestRollback follows a rotation that rolls back: the new credential
// is revoked and the old one keeps working.
func (s suite) createTestRollback(t *testing.T) {
	p := s.newProvider(t)
	r := s.begin(t, p)
	cur := r.req.Current
	c := s.create(t, p, r)
	if err := p.Test(r.ctx, c); err != nil {
		t.Fatalf("Test(new): %v", err)
	}
	if !s.h.Works(r.ctx, t, c) {
		t.Error("the new credential is not accepted at the source")
	}
	if !s.h.Works(r.ctx, t, cur) {
		t.Fatal("Create invalidated the current credential (it must stay valid until revoked)")
	}
	for i := range 2 {
		if err := p.Revoke(r.ctx, c); err != nil {
			t.Fatalf("Revoke(new) #%d: %v", i+1, err)
		}
	}
	if s.revocable && s.h.Works(r.ctx, t, c) {
		t.Error("the revoked new credential is still accepted")
	}
	if !s.h.Works(r.ctx, t, cur) {
		t.Error("revoking the new credential invalidated the current one")
	}
}

// createTestRevokeOld follows a rotation that succeeds: the old credential
// is revoked and the new one keeps working.
func (s suite) createTestRevokeOld(t *testing.T) {
	p := s.newProvider(t)
	r := s.begin(t, p)
	cur := r.req.Current
	c := s.create(t, p, r)
	if err := p.Test(r.ctx, c); err != nil {
		t.Fatalf("Test(new): %v", err)
	}
	for i := range 2 {
		if err := p.Revoke(r.ctx, cur); err != nil {
			t.Fatalf("Revoke(old) #%d: %v", i+1, err)
		}
	}
	if s.revocable && s.h.Works(r.ctx, t, cur) {
		t.Error("the revoked old credential is still accepted")
	}
	if !s.h.Works(r.ctx, t, c) {
		t.Error("revoking the old credential invalidated the new one")
	}
	if err := p.Test(r.ctx, c); err != nil {
		t.Errorf("Test(new) after revoking the old one: %v", err)
	}
}

// createIdempotent calls Create twice for one rotation, as the engine does
// when it resumes after a crash between asking and journaling.
func (s suite) createIdempotent(t *testing.T) {
	p := s.newProvider(t)
	r := s.begin(t, p)
	first := s.create(t, p, r)
	second := s.create(t, p, r)
	if _, ok := p.(provider.Generator); ok && !first.Value.Equal(second.Value) {
		t.Error("a Generator's Create returned different values for one rotation id")
	}
	if !s.h.Works(r.ctx, t, second) {
		t.Error("the credential of the repeated Create is not accepted")
	}
	if !s.h.Works(r.ctx, t, r.req.Current) {
		t.Error("repeating Create invalidated the current credential")
	}
	// Whatever the first call made must still be revocable: nothing orphaned.
	for _, c := range []provider.Credential{first, second} {
		if err := p.Revoke(r.ctx, c); err != nil {
			t.Errorf("Revoke: %v", err)
		}
	}
	if s.revocable && (s.h.Works(r.ctx, t, first) || s.h.Works(r.ctx, t, second)) {
		t.Error("a credential of the repeated Create survived Revoke")
	}
}

// errorsOmitValues makes every method fail (or succeed) with values the
// source does not know, and checks that no error quotes them.
func (s suite) errorsOmitValues(t *testing.T) {
	p := s.newProvider(t)
	r := s.begin(t, p)
	// Not a value any encoding produces: spaces and punctuation.
	marker := "slickenv marker !#% " + randomHex(t, 8)
	bogus := provider.Credential{Value: secret.New(marker), Meta: r.req.Current.Meta}
	check := func(what string, err error) {
		t.Helper()
		if err != nil && strings.Contains(err.Error(), marker) {
			t.Errorf("%s: the error contains the value: %v", what, err)
		}
	}

	err := p.Test(r.ctx, bogus)
	if err == nil {
		t.Error("Test accepted a credential the source does not know")
	}
	check("Test", err)
	// Revoking an unknown credential is either success (nothing to do) or
	// an error, but never one that quotes it.
	check("Revoke", p.Revoke(r.ctx, bogus))

	req := r.req
	req.Current = bogus
	req.RotationID = "rot_test_" + randomHex(t, 6)
	if _, ok := p.(provider.Generator); ok {
		req.Pending = secret.New(marker + " pending")
	}
	c, err := p.Create(r.ctx, req)
	check("Create", err)
	if err == nil {
		t.Cleanup(func() { _ = p.Revoke(context.WithoutCancel(r.ctx), c) })
	}
}

func randomHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
