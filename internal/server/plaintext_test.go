package server_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/slickenv/slickenv/internal/audit"
	"github.com/slickenv/slickenv/internal/client"
	"github.com/slickenv/slickenv/internal/crypto"
	"github.com/slickenv/slickenv/internal/environment"
	"github.com/slickenv/slickenv/internal/secret"
	"github.com/slickenv/slickenv/internal/server"
	"github.com/slickenv/slickenv/internal/store"
)

// TestServerNeverSeesPlaintext runs a whole session (create, set, import,
// unset, rollback, read, a rotation journal row) through the client and
// then greps the server's database files and its access log for the
// values: they must hold ciphertexts only.
func TestServerNeverSeesPlaintext(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b, err := server.OpenBackend(ctx, server.BackendOptions{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	var logBuf bytes.Buffer
	hs := httptest.NewServer(server.New(b, server.Options{Log: slog.New(slog.NewTextHandler(&logBuf, nil))}))
	token, _, err := b.Tokens.Issue(ctx, server.TokenRequest{Project: "shop", Role: server.RoleOwner})
	if err != nil {
		t.Fatal(err)
	}
	c := client.New(hs.URL, token, hs.Client())

	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := environment.Create(ctx, c, "shop", "production", "alice", []string{id.Recipient()}); err != nil {
		t.Fatal(err)
	}
	env, err := environment.Open(ctx, c, "shop", "production", "alice")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Unlock(ctx, id); err != nil {
		t.Fatal(err)
	}
	markers := []string{"MARKER-set-7f3a9c", "MARKER-import-51be0d", "MARKER-rotated-c0ffee"}
	apply := func(ch environment.Change) {
		t.Helper()
		if _, err := env.Apply(ctx, ch); err != nil {
			t.Fatal(err)
		}
	}
	apply(environment.Change{Kind: store.KindSet, Set: []environment.Pair{{Name: "DATABASE_URL", Value: secret.New(markers[0])}}})
	apply(environment.Change{Kind: store.KindImport, Set: []environment.Pair{{Name: "API_KEY", Value: secret.New(markers[1])}, {Name: "TMP", Value: secret.New("MARKER-tmp-123")}}})
	apply(environment.Change{Kind: store.KindUnset, Unset: []string{"TMP"}})
	apply(environment.Change{Kind: store.KindRotate, Set: []environment.Pair{{Name: "API_KEY", Value: secret.New(markers[2])}}})
	if _, err := env.Rollback(ctx, 2, []string{"API_KEY"}, "back"); err != nil {
		t.Fatal(err)
	}
	v, _, err := env.Get(ctx, "API_KEY", 0)
	if err != nil || v.Reveal() != markers[1] {
		t.Fatalf("Get(API_KEY) through the server = %v", err)
	}
	if _, _, err := env.Values(ctx, 0, "run"); err != nil {
		t.Fatal(err)
	}
	pending, err := env.SealBlob("rotation/rot_1", []byte("MARKER-pending-9d9d"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.StartRotation(ctx, store.Rotation{ID: "rot_1", EnvID: env.ID(), Name: "API_KEY", Provider: "random", State: "planned", PendingCiphertext: pending}, audit.Record{Actor: "alice", Action: "rotate.planned"}); err != nil {
		t.Fatal(err)
	}
	entries, err := c.Audit(ctx, "shop", store.AuditQuery{})
	if err != nil {
		t.Fatal(err)
	}
	head, err := c.AuditHead(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	if err := audit.Verify(entries, head); err != nil {
		t.Fatalf("audit chain read through the server: %v", err)
	}

	hs.Close()
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(files) == 0 {
		t.Fatal("no database files")
	}
	all := append(markers, "MARKER-tmp-123", "MARKER-pending-9d9d")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range all {
			if bytes.Contains(data, []byte(m)) {
				t.Errorf("%s contains the plaintext %q", filepath.Base(f), m)
			}
		}
	}
	for _, m := range all {
		if bytes.Contains(logBuf.Bytes(), []byte(m)) {
			t.Errorf("the access log contains the plaintext %q", m)
		}
	}
	// The check above would be vacuous if nothing had been written.
	if data, _ := os.ReadFile(filepath.Join(dir, "server.db")); !bytes.Contains(data, []byte("DATABASE_URL")) {
		t.Error("server.db does not even hold the variable names: is the test reading the right file?")
	}
}
