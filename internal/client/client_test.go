package client_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slickenv/slickenv/internal/client"
	"github.com/slickenv/slickenv/internal/server"
	"github.com/slickenv/slickenv/internal/store"
	"github.com/slickenv/slickenv/internal/store/storetest"
	"github.com/slickenv/slickenv/internal/testenv"
)

// serve starts a server over b and returns a client with an instance
// token (the suite writes to two projects).
func serve(t *testing.T, b *server.Backend) *client.Client {
	t.Helper()
	t.Cleanup(func() { b.Close() })
	secret, _, err := b.Tokens.Issue(context.Background(), server.TokenRequest{Project: server.AllProjects, Role: server.RoleOwner})
	if err != nil {
		t.Fatal(err)
	}
	return serveBackend(t, b, secret)
}

// serveBackend starts a server over b and returns a client with token.
func serveBackend(t testing.TB, b *server.Backend, token string) *client.Client {
	t.Helper()
	hs := httptest.NewServer(server.New(b, server.Options{}))
	t.Cleanup(hs.Close)
	c := client.New(hs.URL, token, hs.Client())
	t.Cleanup(func() { c.Close() })
	return c
}

func TestSuiteOverSQLite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		b, err := server.OpenBackend(context.Background(), server.BackendOptions{DataDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return serve(t, b)
	})
}

var pgCounter atomic.Int64

func TestSuiteOverPostgres(t *testing.T) {
	admin := testenv.Postgres(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		ctx := context.Background()
		adb, err := sql.Open("pgx", admin)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { adb.Close() })
		name := fmt.Sprintf("slickenv_client_%d_%d", time.Now().UnixNano(), pgCounter.Add(1))
		if _, err := adb.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			_, _ = adb.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		})
		u, err := url.Parse(admin)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "/" + name
		b, err := server.OpenBackend(ctx, server.BackendOptions{DatabaseURL: u.String()})
		if err != nil {
			t.Fatal(err)
		}
		return serve(t, b)
	})
}
