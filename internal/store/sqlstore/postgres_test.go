package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/slickenv/slickenv/internal/store"
	"github.com/slickenv/slickenv/internal/store/storetest"
	"github.com/slickenv/slickenv/internal/testenv"
)

var pgDBCounter atomic.Int64

// freshPostgres creates an empty database on the test server and returns a
// store on it; the database is dropped when the test ends.
func freshPostgres(t *testing.T) *Store {
	t.Helper()
	admin := testenv.Postgres(t)
	ctx := context.Background()
	adb, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { adb.Close() })
	name := fmt.Sprintf("slickenv_store_%d_%d", time.Now().UnixNano(), pgDBCounter.Add(1))
	if _, err := adb.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	s, err := OpenPostgres(ctx, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		s.Close()
		_, _ = adb.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	return s
}

func TestPostgresSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return freshPostgres(t) })
}

func TestPostgresReopenKeepsSchema(t *testing.T) {
	s := freshPostgres(t)
	if err := s.migrate(context.Background()); err != nil {
		t.Fatalf("second migrate: %v", err)
	}
}

func TestPostgresBadDSN(t *testing.T) {
	_, err := OpenPostgres(context.Background(), "postgres://u:hunter2secret@127.0.0.1:1/x?sslmode=disable&connect_timeout=1")
	if err == nil {
		t.Fatal("connect to a closed port succeeded")
	}
	if msg := err.Error(); strings.Contains(msg, "hunter2secret") {
		t.Fatalf("error leaks the password: %s", msg)
	}
}
