package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/slickenv/slickenv/internal/store"
)

// SQLiteOptions tune OpenSQLite.
type SQLiteOptions struct {
	// BusyTimeout is how long a writer waits for another process's write
	// lock before failing with store.ErrLocked. Default 5s.
	BusyTimeout time.Duration
	// ReadOnly opens the file without write access: every write then fails
	// with store.ErrReadOnly, and nothing is created.
	ReadOnly bool
}

// OpenSQLite opens (creating when missing, mode 0600 in a 0700 directory) the
// embedded store at path and brings its schema up to date.
//
// Errors: store.ErrCorrupt when the file is not a slickenv store,
// store.ErrLocked when another process holds it past the busy timeout,
// store.ErrReadOnly when it cannot be written and needs to be.
func OpenSQLite(ctx context.Context, path string, opts SQLiteOptions) (*Store, error) {
	if opts.BusyTimeout == 0 {
		opts.BusyTimeout = 5 * time.Second
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", path, err)
	}
	if !opts.ReadOnly {
		if err := os.MkdirAll(filepath.Dir(abs), 0o700); err != nil {
			return nil, fmt.Errorf("store %s: %w", abs, err)
		}
		// Create the file ourselves so that it is 0600 from the first byte;
		// SQLite gives its -wal and -shm files the same mode.
		f, err := os.OpenFile(abs, os.O_RDWR|os.O_CREATE, 0o600)
		switch {
		case err == nil:
			f.Close()
		case errors.Is(err, os.ErrPermission) || isReadOnlyFS(err):
			return nil, fmt.Errorf("store %s: %w", abs, store.ErrReadOnly)
		default:
			return nil, fmt.Errorf("store %s: %w", abs, err)
		}
	} else if _, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("store %s: %w", abs, err)
	}
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", opts.BusyTimeout.Milliseconds()))
	q.Add("_pragma", "foreign_keys(1)")
	// Read the database file through a memory map instead of a read(2) and a
	// page-cache copy per page. Every command is a fresh process with a cold
	// cache, so reading a long history pays that per page: `export` of
	// 1,000 variables × 10,000 versions reads ~1,000 pages, and mapping them
	// took its snapshot from ~29 ms to ~21 ms (bench/README.md). Writes still
	// go through the write-ahead log. The size is address space, not memory.
	q.Add("_pragma", "mmap_size(268435456)")
	if opts.ReadOnly {
		q.Set("mode", "ro")
		if _, err := os.Stat(abs + "-wal"); errors.Is(err, os.ErrNotExist) {
			q.Set("immutable", "1")
		}
	} else {
		q.Add("_pragma", "synchronous(FULL)")
		q.Set("_txlock", "immediate")
	}
	dsn := "file:" + (&url.URL{Path: abs}).EscapedPath() + "?" + q.Encode()
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store %s: %w", abs, err)
	}
	s := &Store{db: db, d: sqliteDialect, location: abs, now: time.Now}
	// mapErr's messages name the file already.
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, s.mapErr(err)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if !opts.ReadOnly {
		if _, err := db.ExecContext(ctx, "PRAGMA journal_mode=WAL"); err != nil {
			db.Close()
			return nil, s.mapErr(err)
		}
	}
	return s, nil
}

func isReadOnlyFS(err error) bool {
	return err != nil && strings.Contains(err.Error(), "read-only file system")
}

func isNoSuchTable(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "no such table") || strings.Contains(err.Error(), "does not exist"))
}

// mapErr turns driver errors into the store's sentinels, keeping the text.
func (s *Store) mapErr(err error) error {
	if err == nil {
		return nil
	}
	if s.d.name == "postgres" {
		if mapped, ok := s.mapPgErr(err); ok {
			return mapped
		}
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED:
			return fmt.Errorf("store %s: %w: another slickenv process is writing; try again", s.location, store.ErrLocked)
		case sqlite3.SQLITE_READONLY:
			return fmt.Errorf("store %s: %w", s.location, store.ErrReadOnly)
		case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
			return fmt.Errorf("store %s: %w: %v", s.location, store.ErrCorrupt, se)
		case sqlite3.SQLITE_CANTOPEN:
			return fmt.Errorf("store %s: cannot open: %v", s.location, se)
		}
	}
	if isNoSuchTable(err) {
		return fmt.Errorf("store %s: %w: %v", s.location, store.ErrCorrupt, err)
	}
	return err
}
