package client_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/slickenv/slickenv/internal/audit"
	"github.com/slickenv/slickenv/internal/server"
	"github.com/slickenv/slickenv/internal/store"
)

// BenchmarkFetch200 is what `run` does at start-up against a server on
// SQLite: find the environment, its keys, its head and the snapshot of 200
// variables, with an environment-scoped read-only service token.
func BenchmarkFetch200(b *testing.B) {
	ctx := context.Background()
	be, err := server.OpenBackend(ctx, server.BackendOptions{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	env, err := be.Store.CreateEnv(ctx, "shop", "production", []store.EnvKey{{Recipient: "age1x", WrappedDEK: make([]byte, 200)}}, audit.Record{Action: "env.create"})
	if err != nil {
		b.Fatal(err)
	}
	var changes []store.Change
	for i := 0; i < 200; i++ {
		changes = append(changes, store.Change{Name: fmt.Sprintf("VAR_%03d", i), Ciphertext: make([]byte, 80), Fingerprint: make([]byte, 32)})
	}
	if _, err := be.Store.Commit(ctx, store.Commit{EnvID: env.ID, Kind: store.KindImport, Actor: "b", Changes: changes, Audit: audit.Record{Action: "import"}}); err != nil {
		b.Fatal(err)
	}
	token, _, err := be.Tokens.Issue(ctx, server.TokenRequest{Project: "shop", Role: server.RoleReader, Env: "production", ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	c := serveBackend(b, be, token)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			e, err := c.Env(ctx, "shop", "production")
			if err != nil {
				b.Error(err)
				return
			}
			if _, err := c.EnvKeys(ctx, e.ID); err != nil {
				b.Error(err)
				return
			}
			h, err := c.Head(ctx, e.ID)
			if err != nil {
				b.Error(err)
				return
			}
			rows, err := c.Snapshot(ctx, e.ID, h.Version)
			if err != nil || len(rows) != 200 {
				b.Errorf("snapshot: %d rows, %v", len(rows), err)
				return
			}
		}
	})
}
