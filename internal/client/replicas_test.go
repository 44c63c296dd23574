package client_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/slickenv/slickenv/internal/audit"
	"github.com/slickenv/slickenv/internal/client"
	"github.com/slickenv/slickenv/internal/server"
	"github.com/slickenv/slickenv/internal/store"
	"github.com/slickenv/slickenv/internal/testenv"
)

// testReplicas runs many writers through two servers sharing one database:
// every write either lands whole or gets 409, versions strictly increase,
// and no update is lost.
func testReplicas(t *testing.T, open func() *server.Backend) {
	ctx := context.Background()
	b1, b2 := open(), open()
	token, _, err := b1.Tokens.Issue(ctx, server.TokenRequest{Project: "shop", Role: server.RoleOwner})
	if err != nil {
		t.Fatal(err)
	}
	var clients []*client.Client
	for _, b := range []*server.Backend{b1, b2} {
		hs := httptest.NewServer(server.New(b, server.Options{}))
		t.Cleanup(hs.Close)
		clients = append(clients, client.New(hs.URL, token, hs.Client()))
	}
	env, err := clients[0].CreateEnv(ctx, "shop", "production", nil, audit.Record{Action: "env.create"})
	if err != nil {
		t.Fatal(err)
	}
	const workers, writes = 8, 5
	var wg sync.WaitGroup
	var mu sync.Mutex
	conflicts := 0
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			c := clients[w%2]
			for i := 0; i < writes; i++ {
				for {
					head, err := c.Head(ctx, env.ID)
					if err != nil {
						t.Error(err)
						return
					}
					name := fmt.Sprintf("W%d_%d", w, i)
					_, err = c.Commit(ctx, store.Commit{EnvID: env.ID, Base: head.Version, Kind: store.KindSet, Actor: name,
						Changes: []store.Change{{Name: name, Ciphertext: []byte("sealed"), Fingerprint: []byte(name)}}, Audit: audit.Record{Action: "set", Name: name}})
					if errors.Is(err, store.ErrConflict) {
						mu.Lock()
						conflicts++
						mu.Unlock()
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					break
				}
			}
		}(w)
	}
	wg.Wait()
	head, err := clients[1].Head(ctx, env.ID)
	if err != nil || head.Version != workers*writes {
		t.Fatalf("head = %d, %v; want %d", head.Version, err, workers*writes)
	}
	snap, err := clients[0].Snapshot(ctx, env.ID, head.Version)
	if err != nil || len(snap) != workers*writes {
		t.Fatalf("snapshot has %d variables, %v; want every write's (no lost update)", len(snap), err)
	}
	vs, err := clients[0].Versions(ctx, env.ID, store.VersionQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vs {
		if want := int64(workers*writes - i); v.Version != want || len(v.Names) != 1 {
			t.Fatalf("version %d = %+v, want version %d with one change", i, v, want)
		}
	}
	entries, _ := clients[1].Audit(ctx, "shop", store.AuditQuery{})
	ah, _ := clients[1].AuditHead(ctx, "shop")
	if err := audit.Verify(entries, ah); err != nil || len(entries) != 1+workers*writes {
		t.Fatalf("audit: %d entries, %v", len(entries), err)
	}
	t.Logf("%d writes through two replicas, %d conflicts retried", workers*writes, conflicts)
}

func TestReplicasOnSQLite(t *testing.T) {
	dir := t.TempDir()
	testReplicas(t, func() *server.Backend {
		b, err := server.OpenBackend(context.Background(), server.BackendOptions{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	})
}

func TestReplicasOnPostgres(t *testing.T) {
	admin := testenv.Postgres(t)
	ctx := context.Background()
	adb, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { adb.Close() })
	name := fmt.Sprintf("slickenv_replicas_%d", time.Now().UnixNano())
	if _, err := adb.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = adb.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })
	u, _ := url.Parse(admin)
	u.Path = "/" + name
	testReplicas(t, func() *server.Backend {
		b, err := server.OpenBackend(ctx, server.BackendOptions{DatabaseURL: u.String()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { b.Close() })
		return b
	})
}
