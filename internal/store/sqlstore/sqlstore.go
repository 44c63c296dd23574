// Package sqlstore implements store.Store on SQL databases: an embedded
// SQLite file (pure Go, modernc.org/sqlite) and PostgreSQL, with one schema.
//
// # Transactions
//
// Every write runs in one transaction that also appends its audit entry and
// moves the audit chain head. On SQLite the transaction takes the write lock
// at BEGIN (BEGIN IMMEDIATE), so writers from several processes serialize and
// wait up to the busy timeout; on PostgreSQL the UPDATE of the chain head row
// serializes writers of one project. A commit re-reads the environment head
// inside the transaction and fails with store.ErrConflict when it moved.
package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slickenv/slickenv/internal/audit"
	"github.com/slickenv/slickenv/internal/store"
)

const schemaVersion = 1

// Store is a store.Store on a SQL database.
type Store struct {
	db       *sql.DB
	d        dialect
	location string // for error messages: the file path or "postgres"
	now      func() time.Time
}

var _ store.Store = (*Store)(nil)

// SetClock replaces the clock (tests of secret age).
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func micros(t time.Time) int64 { return t.UTC().UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

func (s *Store) migrate(ctx context.Context) error {
	var v int
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'schema_version'`).Scan(&v)
	if err == nil {
		if v > schemaVersion {
			return fmt.Errorf("store %s has schema version %d, newer than this slickenv supports (%d): upgrade slickenv", s.location, v, schemaVersion)
		}
		if v == schemaVersion {
			return nil
		}
	}
	if err != nil && !isNoSuchTable(err) && !errors.Is(err, sql.ErrNoRows) {
		return s.mapErr(err)
	}
	if isNoSuchTable(err) && s.d.name == "sqlite" {
		// A database without our meta table must be empty: never add
		// tables to somebody else's file.
		var n int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master`).Scan(&n); err != nil {
			return s.mapErr(err)
		}
		if n > 0 {
			return fmt.Errorf("store %s: %w: it holds tables but no slickenv schema", s.location, store.ErrCorrupt)
		}
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	stmts := s.d.schema(`CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);` + schemaV1)
	for _, stmt := range strings.Split(stmts, ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("store %s: create schema: %w", s.location, s.mapErr(err))
		}
	}
	if _, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM meta WHERE key = 'schema_version'`)); err != nil {
		return s.mapErr(err)
	}
	if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO meta (key, value) VALUES ('schema_version', ?)`), fmt.Sprint(schemaVersion)); err != nil {
		return s.mapErr(err)
	}
	return s.mapErr(tx.Commit())
}

func (s *Store) begin(ctx context.Context) (*sql.Tx, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, s.mapErr(err)
	}
	return tx, nil
}

// CreateEnv implements store.Store.
func (s *Store) CreateEnv(ctx context.Context, project, name string, keys []store.EnvKey, rec audit.Record) (store.Env, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return store.Env{}, err
	}
	defer tx.Rollback()
	var exists int
	err = tx.QueryRowContext(ctx, s.d.q(`SELECT COUNT(*) FROM envs WHERE project = ? AND name = ?`), project, name).Scan(&exists)
	if err != nil {
		return store.Env{}, s.mapErr(err)
	}
	if exists > 0 {
		return store.Env{}, store.Errorf(store.ErrExists, "environment %s already exists", name)
	}
	now := s.now()
	var id int64
	err = tx.QueryRowContext(ctx, s.d.q(`INSERT INTO envs (project, name, created_at) VALUES (?, ?, ?) RETURNING id`), project, name, micros(now)).Scan(&id)
	if err != nil {
		return store.Env{}, s.mapErr(err)
	}
	for _, k := range keys {
		if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO env_keys (env_id, recipient, wrapped_dek) VALUES (?, ?, ?)`), id, k.Recipient, k.WrappedDEK); err != nil {
			return store.Env{}, s.mapErr(err)
		}
	}
	rec.Env = name
	if rec.At.IsZero() {
		rec.At = now
	}
	if _, err := s.appendAudit(ctx, tx, project, rec); err != nil {
		return store.Env{}, err
	}
	if err := tx.Commit(); err != nil {
		return store.Env{}, s.mapErr(err)
	}
	return store.Env{ID: id, Project: project, Name: name, CreatedAt: audit.Truncate(now)}, nil
}

// Env implements store.Store.
func (s *Store) Env(ctx context.Context, project, name string) (store.Env, error) {
	e := store.Env{Project: project, Name: name}
	var created int64
	err := s.db.QueryRowContext(ctx, s.d.q(`SELECT id, created_at FROM envs WHERE project = ? AND name = ?`), project, name).Scan(&e.ID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return e, store.Errorf(store.ErrNotFound, "environment %s not found", name)
	}
	if err != nil {
		return e, s.mapErr(err)
	}
	e.CreatedAt = fromMicros(created)
	return e, nil
}

// Envs implements store.Store.
func (s *Store) Envs(ctx context.Context, project string) ([]store.Env, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT id, name, created_at FROM envs WHERE project = ? ORDER BY name`), project)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	var out []store.Env
	for rows.Next() {
		e := store.Env{Project: project}
		var created int64
		if err := rows.Scan(&e.ID, &e.Name, &created); err != nil {
			return nil, s.mapErr(err)
		}
		e.CreatedAt = fromMicros(created)
		out = append(out, e)
	}
	return out, s.mapErr(rows.Err())
}

// EnvKeys implements store.Store.
func (s *Store) EnvKeys(ctx context.Context, envID int64) ([]store.EnvKey, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(`SELECT recipient, wrapped_dek FROM env_keys WHERE env_id = ? ORDER BY recipient`), envID)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	var out []store.EnvKey
	for rows.Next() {
		var k store.EnvKey
		if err := rows.Scan(&k.Recipient, &k.WrappedDEK); err != nil {
			return nil, s.mapErr(err)
		}
		out = append(out, k)
	}
	return out, s.mapErr(rows.Err())
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (s *Store) head(ctx context.Context, q queryer, envID int64) (store.EnvVersion, error) {
	var v store.EnvVersion
	var created int64
	err := q.QueryRowContext(ctx, s.d.q(`SELECT version, created_at, actor, kind, message FROM env_versions WHERE env_id = ? ORDER BY version DESC LIMIT 1`), envID).
		Scan(&v.Version, &created, &v.Actor, &v.Kind, &v.Message)
	if errors.Is(err, sql.ErrNoRows) {
		return store.EnvVersion{}, nil
	}
	if err != nil {
		return v, s.mapErr(err)
	}
	v.CreatedAt = fromMicros(created)
	return v, nil
}

// Head implements store.Store.
func (s *Store) Head(ctx context.Context, envID int64) (store.EnvVersion, error) {
	return s.head(ctx, s.db, envID)
}

// Version implements store.Store.
func (s *Store) Version(ctx context.Context, envID, version int64) (store.EnvVersion, error) {
	if version == 0 {
		return store.EnvVersion{}, nil
	}
	v := store.EnvVersion{Version: version}
	var created int64
	err := s.db.QueryRowContext(ctx, s.d.q(`SELECT created_at, actor, kind, message FROM env_versions WHERE env_id = ? AND version = ?`), envID, version).
		Scan(&created, &v.Actor, &v.Kind, &v.Message)
	if errors.Is(err, sql.ErrNoRows) {
		return v, store.Errorf(store.ErrNotFound, "version %d not found", version)
	}
	if err != nil {
		return v, s.mapErr(err)
	}
	v.CreatedAt = fromMicros(created)
	return v, nil
}

// Versions implements store.Store.
func (s *Store) Versions(ctx context.Context, envID int64, q store.VersionQuery) ([]store.EnvVersion, error) {
	query := `SELECT v.version, v.created_at, v.actor, v.kind, v.message FROM env_versions v WHERE v.env_id = ?`
	args := []any{envID}
	order := ` ORDER BY v.version DESC`
	if q.Name != "" {
		// Walk the variable's own rows, newest first, on the primary key
		// (env_id, name, env_version) and look each version up: a variable
		// changed 30 times in 10,000 versions costs 30 lookups, where testing
		// every version for a row of the variable cost 10,000.
		query = `SELECT v.version, v.created_at, v.actor, v.kind, v.message FROM value_versions x CROSS JOIN env_versions v
WHERE x.env_id = ? AND x.name = ? AND v.env_id = x.env_id AND v.version = x.env_version`
		args = append(args, q.Name)
		// Ordering by the key column lets SQLite stop after Limit rows
		// instead of sorting them all.
		order = ` ORDER BY x.env_version DESC`
	}
	if q.Before > 0 {
		query += ` AND v.version < ?`
		args = append(args, q.Before)
	}
	query += order
	if q.Limit > 0 {
		query += fmt.Sprintf(` LIMIT %d`, q.Limit)
	}
	rows, err := s.db.QueryContext(ctx, s.d.q(query), args...)
	if err != nil {
		return nil, s.mapErr(err)
	}
	var out []store.EnvVersion
	for rows.Next() {
		var v store.EnvVersion
		var created int64
		if err := rows.Scan(&v.Version, &created, &v.Actor, &v.Kind, &v.Message); err != nil {
			rows.Close()
			return nil, s.mapErr(err)
		}
		v.CreatedAt = fromMicros(created)
		out = append(out, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.mapErr(err)
	}
	if len(out) == 0 {
		return out, nil
	}
	// Names changed per version, in one query over the selected range.
	lo, hi := out[len(out)-1].Version, out[0].Version
	idx := make(map[int64]int, len(out))
	for i, v := range out {
		idx[v.Version] = i
	}
	names, nargs := `SELECT env_version, name FROM value_versions WHERE env_id = ? AND env_version BETWEEN ? AND ? ORDER BY env_version, name`, []any{envID, lo, hi}
	if q.Name != "" {
		// The versions that changed one variable can be far apart: read the
		// names of those versions only, not of every version in between.
		names = `SELECT env_version, name FROM value_versions WHERE env_id = ? AND env_version IN
(SELECT env_version FROM value_versions WHERE env_id = ? AND name = ? AND env_version BETWEEN ? AND ?) ORDER BY env_version, name`
		nargs = []any{envID, envID, q.Name, lo, hi}
	}
	nrows, err := s.db.QueryContext(ctx, s.d.q(names), nargs...)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer nrows.Close()
	for nrows.Next() {
		var ver int64
		var name string
		if err := nrows.Scan(&ver, &name); err != nil {
			return nil, s.mapErr(err)
		}
		if i, ok := idx[ver]; ok {
			out[i].Names = append(out[i].Names, name)
		}
	}
	return out, s.mapErr(nrows.Err())
}

const valueCols = `v.name, v.env_version, v.ciphertext, v.fingerprint, v.value_since, v.actor, v.deleted, ev.created_at`

func scanValue(sc interface{ Scan(...any) error }) (store.ValueRow, error) {
	var r store.ValueRow
	var since, created int64
	err := sc.Scan(&r.Name, &r.EnvVersion, &r.Ciphertext, &r.Fingerprint, &since, &r.Actor, &r.Deleted, &created)
	r.ValueSince, r.CreatedAt = fromMicros(since), fromMicros(created)
	return r, err
}

// Snapshot picks one of three plans by how many rows the environment has up
// to the version, counted on the value_versions_by_version index (which
// stops at snapshotGroupRows+1, so the count costs at most ~1 ms):
//
//   - up to snapshotScanRows rows: snapshotScanQuery, one pass over all the
//     rows. The cheapest plan to prepare and run when there is little
//     history, which is the common case for `run` in a short-lived process.
//   - up to snapshotGroupRows rows: snapshotGroupQuery, which finds each
//     name's latest version on the primary-key index alone (no ciphertext
//     read) and then fetches one row per name.
//   - more: snapshotSeekQuery, whose cost grows with the number of
//     variables and not at all with the number of versions.
//
// Each plan run warm on stores built by bench/cmd/mkfixture (ms, on the
// 2-core machine of bench/README.md):
//
//	variables × versions (rows)   scan   group   seek
//	200 × 1        (200)           1.3     1.5    2.8
//	200 × 100      (500)           2.9     2.4    2.9
//	1,000 × 1      (1,000)         4.3     7.5   13
//	1,000 × 1,000  (4,000)        23      12     17
//	1,000 × 3,000  (10,000)       90      21     23
//	1,000 × 10,000 (31,000)      280      27     22
//
// The single query this replaced let SQLite's planner scan every row of the
// environment, ciphertexts included, and look up each one's version: 150 ms
// at 1,000 × 10,000.
const (
	snapshotScanRows  = 512
	snapshotGroupRows = 16384
)

// snapshotScanQuery returns every row up to the version in (name,
// env_version) order, the primary key's order; snapshotScan keeps each
// name's last row.
const snapshotScanQuery = `SELECT ` + valueCols + `
FROM value_versions v CROSS JOIN env_versions ev
WHERE v.env_id = ? AND v.env_version <= ? AND ev.env_id = v.env_id AND ev.version = v.env_version
ORDER BY v.name, v.env_version`

// snapshotGroupQuery finds each name's greatest env_version <= the version
// with a GROUP BY that SQLite answers from the primary-key index (env_id,
// name, env_version) alone, then looks up that row and its version's time.
// CROSS JOIN fixes the join order (SQLite never reorders it; PostgreSQL
// treats it as an inner join): left to itself, SQLite's planner read every
// row of the environment instead.
const snapshotGroupQuery = `SELECT ` + valueCols + `
FROM (SELECT name, MAX(env_version) AS mv FROM value_versions WHERE env_id = ? AND env_version <= ? GROUP BY name) m
CROSS JOIN value_versions v CROSS JOIN env_versions ev
WHERE v.env_id = ? AND v.name = m.name AND v.env_version = m.mv
	AND ev.env_id = v.env_id AND ev.version = v.env_version
	AND NOT v.deleted
ORDER BY v.name`

// snapshotSeekQuery is a loose index scan. The recursive CTE walks the
// distinct names of the environment by seeking the primary key to the next
// name, one seek per name instead of reading every row; for each name one
// more seek finds its greatest env_version <= the version, and one lookup
// each fetches that row and its version's time. Names whose first row is
// newer than the version get a NULL maximum and drop out of the join.
const snapshotSeekQuery = `
WITH RECURSIVE names(name) AS (
	SELECT MIN(name) FROM value_versions WHERE env_id = ?
	UNION ALL
	SELECT (SELECT MIN(x.name) FROM value_versions x WHERE x.env_id = ? AND x.name > names.name)
	FROM names WHERE names.name IS NOT NULL
)
SELECT ` + valueCols + `
FROM names CROSS JOIN value_versions v CROSS JOIN env_versions ev
WHERE v.env_id = ? AND v.name = names.name
	AND v.env_version = (SELECT MAX(y.env_version) FROM value_versions y WHERE y.env_id = ? AND y.name = names.name AND y.env_version <= ?)
	AND ev.env_id = v.env_id AND ev.version = v.env_version
	AND NOT v.deleted
ORDER BY v.name`

// Snapshot implements store.Store (see snapshotScanRows for how).
func (s *Store) Snapshot(ctx context.Context, envID, version int64) ([]store.ValueRow, error) {
	var n int
	err := s.db.QueryRowContext(ctx, s.d.q(fmt.Sprintf(`SELECT COUNT(*) FROM (SELECT 1 FROM value_versions WHERE env_id = ? AND env_version <= ? LIMIT %d) r`, snapshotGroupRows+1)), envID, version).Scan(&n)
	if err != nil {
		return nil, s.mapErr(err)
	}
	switch {
	case n <= snapshotScanRows:
		return s.snapshotScan(ctx, envID, version)
	case n <= snapshotGroupRows:
		return s.snapshotGroup(ctx, envID, version)
	default:
		return s.snapshotSeek(ctx, envID, version)
	}
}

// snapshotScan keeps the last row of each name from snapshotScanQuery,
// leaving out the deleted ones.
func (s *Store) snapshotScan(ctx context.Context, envID, version int64) ([]store.ValueRow, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(snapshotScanQuery), envID, version)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	var out []store.ValueRow
	var last store.ValueRow
	have := false
	flush := func() {
		if have && !last.Deleted {
			out = append(out, last)
		}
	}
	for rows.Next() {
		r, err := scanValue(rows)
		if err != nil {
			return nil, s.mapErr(err)
		}
		if have && r.Name != last.Name {
			flush()
		}
		last, have = r, true
	}
	if err := rows.Err(); err != nil {
		return nil, s.mapErr(err)
	}
	flush()
	return out, nil
}

// snapshotGroup returns the rows of snapshotGroupQuery.
func (s *Store) snapshotGroup(ctx context.Context, envID, version int64) ([]store.ValueRow, error) {
	return s.valueRows(ctx, snapshotGroupQuery, envID, version, envID)
}

// snapshotSeek returns the rows of snapshotSeekQuery.
func (s *Store) snapshotSeek(ctx context.Context, envID, version int64) ([]store.ValueRow, error) {
	return s.valueRows(ctx, snapshotSeekQuery, envID, envID, envID, envID, version)
}

// valueRows runs a query selecting valueCols and returns its rows.
func (s *Store) valueRows(ctx context.Context, query string, args ...any) ([]store.ValueRow, error) {
	rows, err := s.db.QueryContext(ctx, s.d.q(query), args...)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	var out []store.ValueRow
	for rows.Next() {
		r, err := scanValue(rows)
		if err != nil {
			return nil, s.mapErr(err)
		}
		out = append(out, r)
	}
	return out, s.mapErr(rows.Err())
}

// Value implements store.Store.
func (s *Store) Value(ctx context.Context, envID int64, name string, version int64) (store.ValueRow, error) {
	r, err := scanValue(s.db.QueryRowContext(ctx, s.d.q(`
SELECT `+valueCols+` FROM value_versions v
JOIN env_versions ev ON ev.env_id = v.env_id AND ev.version = v.env_version
WHERE v.env_id = ? AND v.name = ? AND v.env_version <= ?
ORDER BY v.env_version DESC LIMIT 1`), envID, name, version))
	if errors.Is(err, sql.ErrNoRows) || (err == nil && r.Deleted) {
		return store.ValueRow{}, store.Errorf(store.ErrNotFound, "variable %s is not set", name)
	}
	if err != nil {
		return r, s.mapErr(err)
	}
	return r, nil
}

// ValueHistory implements store.Store.
func (s *Store) ValueHistory(ctx context.Context, envID int64, name string, limit int) ([]store.ValueRow, error) {
	query := `SELECT ` + valueCols + ` FROM value_versions v
JOIN env_versions ev ON ev.env_id = v.env_id AND ev.version = v.env_version
WHERE v.env_id = ? AND v.name = ? ORDER BY v.env_version DESC`
	if limit > 0 {
		query += fmt.Sprintf(` LIMIT %d`, limit)
	}
	rows, err := s.db.QueryContext(ctx, s.d.q(query), envID, name)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	var out []store.ValueRow
	for rows.Next() {
		r, err := scanValue(rows)
		if err != nil {
			return nil, s.mapErr(err)
		}
		out = append(out, r)
	}
	return out, s.mapErr(rows.Err())
}

// FirstSeen implements store.Store.
func (s *Store) FirstSeen(ctx context.Context, envID int64, name string, fingerprint []byte) (time.Time, bool, error) {
	var since sql.NullInt64
	err := s.db.QueryRowContext(ctx, s.d.q(`SELECT MIN(value_since) FROM value_versions WHERE env_id = ? AND name = ? AND fingerprint = ? AND NOT deleted`), envID, name, fingerprint).Scan(&since)
	if err != nil {
		return time.Time{}, false, s.mapErr(err)
	}
	if !since.Valid {
		return time.Time{}, false, nil
	}
	return fromMicros(since.Int64), true, nil
}

// Commit implements store.Store.
func (s *Store) Commit(ctx context.Context, c store.Commit) (store.EnvVersion, error) {
	if len(c.Changes) == 0 {
		return store.EnvVersion{}, errors.New("commit: no changes")
	}
	tx, err := s.begin(ctx)
	if err != nil {
		return store.EnvVersion{}, err
	}
	defer tx.Rollback()
	var project, envName string
	err = tx.QueryRowContext(ctx, s.d.q(`SELECT project, name FROM envs WHERE id = ?`), c.EnvID).Scan(&project, &envName)
	if errors.Is(err, sql.ErrNoRows) {
		return store.EnvVersion{}, store.Errorf(store.ErrNotFound, "environment id %d not found", c.EnvID)
	}
	if err != nil {
		return store.EnvVersion{}, s.mapErr(err)
	}
	head, err := s.head(ctx, tx, c.EnvID)
	if err != nil {
		return store.EnvVersion{}, err
	}
	if head.Version != c.Base {
		return store.EnvVersion{}, store.Errorf(store.ErrConflict, "environment %s changed (now at v%d, this change was based on v%d)", envName, head.Version, c.Base)
	}
	at := c.At
	if at.IsZero() {
		at = s.now()
	}
	v := store.EnvVersion{Version: c.Base + 1, CreatedAt: audit.Truncate(at), Actor: c.Actor, Kind: c.Kind, Message: c.Message}
	if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO env_versions (env_id, version, created_at, actor, kind, message) VALUES (?, ?, ?, ?, ?, ?)`),
		c.EnvID, v.Version, micros(at), c.Actor, c.Kind, c.Message); err != nil {
		return store.EnvVersion{}, s.mapErr(err)
	}
	// One prepared statement for all the rows: parsing the INSERT again for
	// each row was most of the time of an import of many variables.
	insert, err := tx.PrepareContext(ctx, s.d.q(`INSERT INTO value_versions (env_id, name, env_version, ciphertext, fingerprint, value_since, actor, deleted) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`))
	if err != nil {
		return store.EnvVersion{}, s.mapErr(err)
	}
	defer insert.Close()
	for _, ch := range c.Changes {
		since := ch.ValueSince
		if since.IsZero() {
			since = at
		}
		if _, err := insert.ExecContext(ctx, c.EnvID, ch.Name, v.Version, ch.Ciphertext, ch.Fingerprint, micros(since), c.Actor, ch.Deleted); err != nil {
			return store.EnvVersion{}, fmt.Errorf("write %s: %w", ch.Name, s.mapErr(err))
		}
		v.Names = append(v.Names, ch.Name)
	}
	rec := c.Audit
	rec.Env, rec.Version, rec.At = envName, v.Version, at
	if rec.Actor == "" {
		rec.Actor = c.Actor
	}
	if _, err := s.appendAudit(ctx, tx, project, rec); err != nil {
		return store.EnvVersion{}, err
	}
	if err := tx.Commit(); err != nil {
		return store.EnvVersion{}, s.mapErr(err)
	}
	return v, nil
}

// AppendAudit implements store.Store.
//
// On SQLite the entry is committed with synchronous=NORMAL instead of FULL:
// the entries appended here record reads (get, export, run), and every read
// pays for its entry, so saving the commit's fsync is worth having, while
// version commits (Commit, CreateEnv, rotations) keep FULL and are durable
// when they return. What NORMAL gives up, and only on an operating-system
// crash or power loss (a crash of the process loses nothing: the entry is in
// the write-ahead log the moment the commit returns), is the newest few
// read entries. The chain stays consistent: SQLite's recovery replays a
// prefix of the log's transactions, each entry moves the chain head in the
// same transaction, so what survives is a shorter valid chain, never one
// with a gap or a head that does not match its last entry; and the fsync of
// the next FULL commit makes every entry before it durable too, so an entry
// can never be lost while a later version survives.
func (s *Store) AppendAudit(ctx context.Context, project string, rec audit.Record) (audit.Entry, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return audit.Entry{}, s.mapErr(err)
	}
	defer conn.Close()
	if s.d.name == "sqlite" {
		if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`); err != nil {
			return audit.Entry{}, s.mapErr(err)
		}
		defer func() {
			if _, err := conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA synchronous = FULL`); err != nil {
				// Never hand back to the pool a connection that could commit a
				// version without syncing it: make database/sql discard it.
				_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			}
		}()
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return audit.Entry{}, s.mapErr(err)
	}
	defer tx.Rollback()
	if rec.At.IsZero() {
		rec.At = s.now()
	}
	e, err := s.appendAudit(ctx, tx, project, rec)
	if err != nil {
		return e, err
	}
	return e, s.mapErr(tx.Commit())
}

// appendAudit seals rec after the project's chain head and moves the head.
// The UPDATE … RETURNING comes first so that PostgreSQL locks the head row
// as it reads it (SQLite holds the write lock from BEGIN IMMEDIATE).
func (s *Store) appendAudit(ctx context.Context, tx *sql.Tx, project string, rec audit.Record) (audit.Entry, error) {
	var head audit.Head
	err := tx.QueryRowContext(ctx, s.d.q(`UPDATE audit_heads SET seq = seq WHERE project = ? RETURNING seq, hash`), project).Scan(&head.Seq, &head.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		head = audit.Head{}
		if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO audit_heads (project, seq, hash) VALUES (?, 0, ?)`), project, audit.GenesisHash()); err != nil {
			return audit.Entry{}, fmt.Errorf("append audit entry: %w", s.mapErr(err))
		}
	} else if err != nil {
		return audit.Entry{}, fmt.Errorf("append audit entry: %w", s.mapErr(err))
	}
	e, err := audit.Seal(project, head, rec)
	if err != nil {
		return e, err
	}
	if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO audit (project, seq, at, actor, action, env, name, version, outcome, detail_json, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		project, e.Seq, micros(e.At), e.Actor, e.Action, e.Env, e.Name, e.Version, e.Outcome, string(e.Detail), e.PrevHash, e.Hash); err != nil {
		return e, fmt.Errorf("append audit entry: %w", s.mapErr(err))
	}
	if _, err := tx.ExecContext(ctx, s.d.q(`UPDATE audit_heads SET seq = ?, hash = ? WHERE project = ?`), e.Seq, e.Hash, project); err != nil {
		return e, fmt.Errorf("append audit entry: %w", s.mapErr(err))
	}
	return e, nil
}

// Audit implements store.Store.
func (s *Store) Audit(ctx context.Context, project string, q store.AuditQuery) ([]audit.Entry, error) {
	query := `SELECT seq, at, actor, action, env, name, version, outcome, detail_json, prev_hash, hash FROM audit WHERE project = ?`
	args := []any{project}
	if !q.Since.IsZero() {
		query += ` AND at >= ?`
		args = append(args, micros(q.Since))
	}
	if q.Limit > 0 {
		query = `SELECT * FROM (` + query + fmt.Sprintf(` ORDER BY seq DESC LIMIT %d) t`, q.Limit)
	}
	query += ` ORDER BY seq`
	rows, err := s.db.QueryContext(ctx, s.d.q(query), args...)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	var out []audit.Entry
	for rows.Next() {
		e := audit.Entry{Project: project}
		var at int64
		var detail string
		if err := rows.Scan(&e.Seq, &at, &e.Actor, &e.Action, &e.Env, &e.Name, &e.Version, &e.Outcome, &detail, &e.PrevHash, &e.Hash); err != nil {
			return nil, s.mapErr(err)
		}
		e.At, e.Detail = fromMicros(at), json.RawMessage(detail)
		out = append(out, e)
	}
	return out, s.mapErr(rows.Err())
}

// AuditHead implements store.Store.
func (s *Store) AuditHead(ctx context.Context, project string) (audit.Head, error) {
	var h audit.Head
	err := s.db.QueryRowContext(ctx, s.d.q(`SELECT seq, hash FROM audit_heads WHERE project = ?`), project).Scan(&h.Seq, &h.Hash)
	if errors.Is(err, sql.ErrNoRows) {
		return audit.Head{}, nil
	}
	if bytes.Equal(h.Hash, audit.GenesisHash()) && h.Seq == 0 {
		h.Hash = nil
	}
	return h, s.mapErr(err)
}
