package sqlstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/slickenv/slickenv/internal/audit"
	"github.com/slickenv/slickenv/internal/store"
	"github.com/slickenv/slickenv/internal/store/storetest"
)

func openTemp(t *testing.T) *Store {
	t.Helper()
	s, err := OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "sub", "shop.db"), SQLiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLiteSuite(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

func TestSQLiteFileMode(t *testing.T) {
	s := openTemp(t)
	if _, err := s.CreateEnv(context.Background(), "shop", "production", nil, audit.Record{Action: "env.create"}); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal"} {
		fi, err := os.Stat(s.location + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", s.location+suffix, fi.Mode().Perm())
		}
	}
	di, _ := os.Stat(filepath.Dir(s.location))
	if di.Mode().Perm() != 0o700 {
		t.Errorf("dir mode %v, want 0700", di.Mode().Perm())
	}
}

func TestSQLiteCorrupt(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.db")
	if err := os.WriteFile(p, []byte("this is not a database, just some text that is long enough to look like a header......................................................"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := OpenSQLite(context.Background(), p, SQLiteOptions{})
	if !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("open garbage = %v, want ErrCorrupt", err)
	}
	data, _ := os.ReadFile(p)
	if len(data) == 0 || data[0] != 't' {
		t.Fatal("open modified the corrupt file")
	}
}

func TestSQLiteReadOnly(t *testing.T) {
	p := filepath.Join(t.TempDir(), "shop.db")
	s, err := OpenSQLite(context.Background(), p, SQLiteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	ro, err := OpenSQLite(context.Background(), p, SQLiteOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	_, err = ro.CreateEnv(context.Background(), "shop", "production", nil, audit.Record{Action: "env.create"})
	if !errors.Is(err, store.ErrReadOnly) {
		t.Fatalf("write to read-only store = %v, want ErrReadOnly", err)
	}
}

// TestSQLiteAuditKeepsFullSync checks that AppendAudit, which commits with
// synchronous=NORMAL, hands its connection back with FULL: a version
// committed on it next must be durable when Commit returns.
func TestSQLiteAuditKeepsFullSync(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	s.db.SetMaxOpenConns(1) // so that the check below reuses the audit's connection
	for _, canceled := range []bool{false, true} {
		actx, cancel := context.WithCancel(ctx)
		if canceled {
			cancel() // the append fails, and the restore must still happen
		}
		_, err := s.AppendAudit(actx, "shop", audit.Record{Actor: "t", Action: "get"})
		cancel()
		if (err != nil) != canceled {
			t.Fatalf("AppendAudit (canceled %v): %v", canceled, err)
		}
		var mode int
		if err := s.db.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if mode != 2 {
			t.Fatalf("after AppendAudit (canceled %v), synchronous = %d, want 2 (FULL)", canceled, mode)
		}
	}
}
