package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver

	"github.com/slickenv/slickenv/internal/store"
)

// OpenPostgres opens the PostgreSQL store at dsn (a postgres:// URL or a
// key=value DSN) and brings its schema up to date. It is the backend of
// `slickenv server --database`, sharing the SQLite store's schema and
// queries: any number of stateless servers can share one database.
//
// Writers of one environment are serialized by the row locks of their
// inserts and of the project's audit chain head; a write whose base version
// is no longer the head fails with store.ErrConflict and writes nothing.
func OpenPostgres(ctx context.Context, dsn string) (*Store, error) {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres store: invalid connection string: %s", scrubbed(err))
	}
	location := fmt.Sprintf("postgres://%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres store %s: %s", location, scrubbed(err))
	}
	db.SetMaxOpenConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	s := &Store{db: db, d: postgresDialect, location: location, now: time.Now}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, s.mapErr(err)
	}
	if err := s.migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// scrubbed returns an error's text without any password it may quote.
func scrubbed(err error) string {
	msg := err.Error()
	var ue *url.Error
	if errors.As(err, &ue) {
		return "cannot parse the URL"
	}
	return msg
}

// mapPgErr maps PostgreSQL errors to the store's sentinels.
func (s *Store) mapPgErr(err error) (error, bool) {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		var ce *pgconn.ConnectError
		if errors.As(err, &ce) {
			return fmt.Errorf("store %s: cannot connect: %s", s.location, scrubbed(ce.Unwrap())), true
		}
		return nil, false
	}
	switch pe.Code {
	case "23505", "40001", "40P01": // unique violation, serialization failure, deadlock
		return fmt.Errorf("store %s: %w: %s", s.location, store.ErrConflict, pe.Message), true
	case "25006": // read_only_sql_transaction
		return fmt.Errorf("store %s: %w", s.location, store.ErrReadOnly), true
	case "42P01": // undefined_table
		return fmt.Errorf("store %s: %w: %s", s.location, store.ErrCorrupt, pe.Message), true
	}
	return fmt.Errorf("store %s: %s (SQLSTATE %s)", s.location, pe.Message, pe.Code), true
}
