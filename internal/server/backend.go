package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/slickenv/slickenv/internal/store"
	"github.com/slickenv/slickenv/internal/store/sqlstore"
)

// BackendOptions say where the server keeps its data: exactly one of
// DataDir (an embedded SQLite file, DataDir/server.db) and DatabaseURL (a
// PostgreSQL URL shared by any number of replicas).
type BackendOptions struct {
	DataDir     string
	DatabaseURL string
}

// Backend is the server's database: the store (sqlstore) and, in the same
// database, the server's own tables (tokens).
type Backend struct {
	Store  store.Store
	Tokens *Tokens
	db     *sql.DB
	dollar bool
	now    func() time.Time
}

// OpenBackend opens (creating when missing) the server's database and
// brings both the store's schema and the server's up to date. It is safe
// to call from several replicas at once on PostgreSQL.
func OpenBackend(ctx context.Context, opts BackendOptions) (*Backend, error) {
	switch {
	case opts.DataDir != "" && opts.DatabaseURL != "":
		return nil, errors.New("server: choose one of a data directory and a database URL")
	case opts.DatabaseURL != "":
		st, err := sqlstore.OpenPostgres(ctx, opts.DatabaseURL)
		if err != nil {
			return nil, err
		}
		db, err := sql.Open("pgx", opts.DatabaseURL)
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("server database: %w", err)
		}
		db.SetMaxOpenConns(8)
		return newBackend(ctx, st, db, true)
	default:
		dir := opts.DataDir
		if dir == "" {
			return nil, errors.New("server: no data directory or database URL")
		}
		path, err := filepath.Abs(filepath.Join(dir, "server.db"))
		if err != nil {
			return nil, err
		}
		// The store creates the file (0600) and its schema first: sqlstore
		// refuses a file that holds tables without its own.
		st, err := sqlstore.OpenSQLite(ctx, path, sqlstore.SQLiteOptions{})
		if err != nil {
			return nil, err
		}
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(5000)")
		q.Set("_txlock", "immediate")
		db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("server database %s: %w", path, err)
		}
		return newBackend(ctx, st, db, false)
	}
}

func newBackend(ctx context.Context, st store.Store, db *sql.DB, dollar bool) (*Backend, error) {
	b := &Backend{Store: st, db: db, dollar: dollar, now: time.Now}
	for _, stmt := range strings.Split(schemaTokens, ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		// Replicas starting together race on CREATE … IF NOT EXISTS in
		// PostgreSQL's catalog; the loser's retry finds the table.
		var err error
		for attempt := 0; attempt < 3; attempt++ {
			if _, err = db.ExecContext(ctx, stmt); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			b.Close()
			return nil, fmt.Errorf("server database: create tokens table: %w", err)
		}
	}
	b.Tokens = &Tokens{b: b}
	return b, nil
}

// Close closes the store and the database.
func (b *Backend) Close() error {
	err := b.Store.Close()
	if cerr := b.db.Close(); err == nil {
		err = cerr
	}
	return err
}

// q rewrites ? placeholders to $n for PostgreSQL.
func (b *Backend) q(query string) string {
	if !b.dollar {
		return query
	}
	var sb strings.Builder
	n := 0
	for _, r := range query {
		if r == '?' {
			n++
			sb.WriteString("$" + strconv.Itoa(n))
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// envOf returns the project and name of an environment id, for scope
// checks of the methods that name an environment by id.
func (b *Backend) envOf(ctx context.Context, envID int64) (project, env string, err error) {
	err = b.db.QueryRowContext(ctx, b.q(`SELECT project, name FROM envs WHERE id = ?`), envID).Scan(&project, &env)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", store.Errorf(store.ErrNotFound, "environment %d not found", envID)
	}
	return project, env, err
}

// rotationOf returns the project and environment of a rotation id.
func (b *Backend) rotationOf(ctx context.Context, id string) (project, env string, err error) {
	err = b.db.QueryRowContext(ctx, b.q(`SELECT e.project, e.name FROM rotations r JOIN envs e ON e.id = r.env_id WHERE r.id = ?`), id).Scan(&project, &env)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", store.Errorf(store.ErrNotFound, "rotation %s not found", id)
	}
	return project, env, err
}

// rotationStates counts journal rows by state (for /metrics).
func (b *Backend) rotationStates(ctx context.Context) (map[string]int64, error) {
	rows, err := b.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM rotations GROUP BY state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var s string
		var n int64
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

// ping checks the database (for /healthz).
func (b *Backend) ping(ctx context.Context) error { return b.db.PingContext(ctx) }

// envRef names one environment (for /metrics).
type envRef struct {
	id            int64
	project, name string
}

// allEnvs lists every environment of every project.
func (b *Backend) allEnvs(ctx context.Context) ([]envRef, error) {
	rows, err := b.db.QueryContext(ctx, `SELECT id, project, name FROM envs ORDER BY project, name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []envRef
	for rows.Next() {
		var e envRef
		if err := rows.Scan(&e.id, &e.project, &e.name); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}
