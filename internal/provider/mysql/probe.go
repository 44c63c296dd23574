package mysql

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"

	"github.com/go-sql-driver/mysql"

	"github.com/slickenv/slickenv/internal/provider"
)

// Test logs in with c exactly as the application would (the value's own
// address and parameters) and runs the read probe (default SELECT 1) and
// the write probe inside a transaction that is always rolled back (default:
// create a temporary table and insert a row into it; skipped when the value
// names no database, since temporary tables live in one). Errors never
// contain the password; a rejected login wraps ErrAccessDenied.
func (p *Provider) Test(ctx context.Context, c provider.Credential) error {
	v, err := parseValue(c.Value.Reveal())
	if err != nil {
		return fmt.Errorf("mysql: test: %w", err)
	}
	db, conn, err := dial(ctx, v)
	if err != nil {
		return fmt.Errorf("mysql: test: %w", err)
	}
	defer db.Close()
	defer conn.Close()
	if err := p.probe(ctx, conn, v); err != nil {
		return fmt.Errorf("mysql: test as %q at %s: %w", v.user, v.address(), redact(err, v.password))
	}
	return nil
}

func (p *Provider) probe(ctx context.Context, conn *sql.Conn, v connValue) error {
	rows, err := conn.QueryContext(ctx, p.s.read)
	if err != nil {
		return fmt.Errorf("read probe: %w", err)
	}
	for rows.Next() {
	}
	if err := rows.Err(); err != nil {
		rows.Close()
		return fmt.Errorf("read probe: %w", err)
	}
	rows.Close()

	write := p.s.write
	if write == "" && v.cfg.DBName == "" {
		return nil
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("write probe: begin: %w", err)
	}
	defer tx.Rollback()
	if write != "" {
		if _, err := tx.ExecContext(ctx, write); err != nil {
			return fmt.Errorf("write probe: %w", err)
		}
		return tx.Rollback()
	}
	// CREATE TEMPORARY TABLE neither commits the transaction nor outlives
	// the session; the name is random so a shared pooled session never
	// collides with one of the application's tables.
	var b [6]byte
	rand.Read(b[:])
	table := "slickenv_probe_" + hex.EncodeToString(b[:])
	if _, err := tx.ExecContext(ctx, "CREATE TEMPORARY TABLE "+table+" (v INT)"); err != nil {
		return fmt.Errorf("write probe: create a temporary table (the user needs CREATE TEMPORARY TABLES, or set test.write): %w", err)
	}
	_, err = tx.ExecContext(ctx, "INSERT INTO "+table+" (v) VALUES (1)")
	rollbackErr := tx.Rollback()
	conn.ExecContext(context.WithoutCancel(ctx), "DROP TEMPORARY TABLE IF EXISTS "+table)
	if err != nil {
		return fmt.Errorf("write probe: insert: %w", err)
	}
	return rollbackErr
}

// dial opens one session with v.
func dial(ctx context.Context, v connValue) (*sql.DB, *sql.Conn, error) {
	connector, err := mysql.NewConnector(v.cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("connect as %q to %s: %w", v.user, v.address(), redact(err, v.password))
	}
	db := sql.OpenDB(connector)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, nil, fmt.Errorf("connect as %q to %s: %w", v.user, v.address(), redact(err, v.password))
	}
	return db, conn, nil
}

// loginWorks reports whether the server accepts v's user and password. A
// rejected login is (false, nil); any other failure is an error.
func loginWorks(ctx context.Context, v connValue) (bool, error) {
	db, conn, err := dial(ctx, v)
	if isAccessDenied(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	conn.Close()
	db.Close()
	return true, nil
}
