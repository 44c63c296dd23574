package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/slickenv/slickenv/internal/audit"
	"github.com/slickenv/slickenv/internal/store"
)

const rotationCols = `id, env_id, name, provider, state, attempt, pending_ciphertext, old_meta, new_meta, lease_owner, lease_until, fence, started_at, updated_at, last_error`

func scanRotation(sc interface{ Scan(...any) error }) (store.Rotation, error) {
	var r store.Rotation
	var oldMeta, newMeta string
	var until, started, updated int64
	err := sc.Scan(&r.ID, &r.EnvID, &r.Name, &r.Provider, &r.State, &r.Attempt, &r.PendingCiphertext, &oldMeta, &newMeta, &r.LeaseOwner, &until, &r.Fence, &started, &updated, &r.LastError)
	if err != nil {
		return r, err
	}
	if until > 0 {
		r.LeaseUntil = fromMicros(until)
	}
	r.StartedAt, r.UpdatedAt = fromMicros(started), fromMicros(updated)
	if err := json.Unmarshal([]byte(oldMeta), &r.OldMeta); err != nil {
		return r, fmt.Errorf("rotation %s: old_meta: %w", r.ID, store.ErrCorrupt)
	}
	if err := json.Unmarshal([]byte(newMeta), &r.NewMeta); err != nil {
		return r, fmt.Errorf("rotation %s: new_meta: %w", r.ID, store.ErrCorrupt)
	}
	return r, nil
}

func metaJSON(m map[string]string) string {
	if m == nil {
		return "{}"
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func (s *Store) envOf(ctx context.Context, q queryer, envID int64) (project, name string, err error) {
	err = q.QueryRowContext(ctx, s.d.q(`SELECT project, name FROM envs WHERE id = ?`), envID).Scan(&project, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", store.Errorf(store.ErrNotFound, "environment id %d not found", envID)
	}
	return project, name, s.mapErr(err)
}

// StartRotation implements store.Journal.
func (s *Store) StartRotation(ctx context.Context, r store.Rotation, rec audit.Record) (store.Rotation, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return r, err
	}
	defer tx.Rollback()
	project, envName, err := s.envOf(ctx, tx, r.EnvID)
	if err != nil {
		return r, err
	}
	existing, err := scanRotation(tx.QueryRowContext(ctx, s.d.q(`SELECT `+rotationCols+` FROM rotations WHERE env_id = ? AND name = ? AND state NOT IN (?, ?) ORDER BY started_at DESC LIMIT 1`),
		r.EnvID, r.Name, store.RotationDone, store.RotationRolledBack))
	if err == nil {
		return r, &store.BusyError{Existing: existing}
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return r, s.mapErr(err)
	}
	now := s.now()
	r.Fence, r.StartedAt, r.UpdatedAt = 1, audit.Truncate(now), audit.Truncate(now)
	if r.Attempt == 0 {
		r.Attempt = 1
	}
	if _, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO rotations (`+rotationCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
		r.ID, r.EnvID, r.Name, r.Provider, r.State, r.Attempt, r.PendingCiphertext, metaJSON(r.OldMeta), metaJSON(r.NewMeta),
		r.LeaseOwner, micros(r.LeaseUntil), r.Fence, micros(now), micros(now), r.LastError); err != nil {
		return r, s.mapErr(err)
	}
	rec.Env, rec.At = envName, now
	if _, err := s.appendAudit(ctx, tx, project, rec); err != nil {
		return r, err
	}
	return r, s.mapErr(tx.Commit())
}

// Rotation implements store.Journal.
func (s *Store) Rotation(ctx context.Context, id string) (store.Rotation, error) {
	r, err := scanRotation(s.db.QueryRowContext(ctx, s.d.q(`SELECT `+rotationCols+` FROM rotations WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return r, store.Errorf(store.ErrNotFound, "rotation %s not found", id)
	}
	return r, s.mapErr(err)
}

// OpenRotation implements store.Journal.
func (s *Store) OpenRotation(ctx context.Context, envID int64, name string) (store.Rotation, error) {
	r, err := scanRotation(s.db.QueryRowContext(ctx, s.d.q(`SELECT `+rotationCols+` FROM rotations WHERE env_id = ? AND name = ? AND state NOT IN (?, ?) ORDER BY started_at DESC LIMIT 1`),
		envID, name, store.RotationDone, store.RotationRolledBack))
	if errors.Is(err, sql.ErrNoRows) {
		return r, store.Errorf(store.ErrNotFound, "no unfinished rotation of %s", name)
	}
	return r, s.mapErr(err)
}

// Rotations implements store.Journal.
func (s *Store) Rotations(ctx context.Context, envID int64, limit int) ([]store.Rotation, error) {
	q := `SELECT ` + rotationCols + ` FROM rotations WHERE env_id = ? ORDER BY started_at DESC, id DESC`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	rows, err := s.db.QueryContext(ctx, s.d.q(q), envID)
	if err != nil {
		return nil, s.mapErr(err)
	}
	defer rows.Close()
	var out []store.Rotation
	for rows.Next() {
		r, err := scanRotation(rows)
		if err != nil {
			return nil, s.mapErr(err)
		}
		out = append(out, r)
	}
	return out, s.mapErr(rows.Err())
}

// TakeLease implements store.Journal.
func (s *Store) TakeLease(ctx context.Context, id, owner string, until time.Time, expectFence int64, rec audit.Record) (store.Rotation, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return store.Rotation{}, err
	}
	defer tx.Rollback()
	now := s.now()
	res, err := tx.ExecContext(ctx, s.d.q(`UPDATE rotations SET lease_owner = ?, lease_until = ?, fence = fence + 1, updated_at = ? WHERE id = ? AND fence = ?`),
		owner, micros(until), micros(now), id, expectFence)
	if err != nil {
		return store.Rotation{}, s.mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.Rotation{}, store.Errorf(store.ErrConflict, "rotation %s: another process took its lease", id)
	}
	r, err := scanRotation(tx.QueryRowContext(ctx, s.d.q(`SELECT `+rotationCols+` FROM rotations WHERE id = ?`), id))
	if err != nil {
		return r, s.mapErr(err)
	}
	if rec.Action != "" {
		project, envName, err := s.envOf(ctx, tx, r.EnvID)
		if err != nil {
			return r, err
		}
		rec.Env, rec.At = envName, now
		if _, err := s.appendAudit(ctx, tx, project, rec); err != nil {
			return r, err
		}
	}
	return r, s.mapErr(tx.Commit())
}

// RenewLease implements store.Journal.
func (s *Store) RenewLease(ctx context.Context, id, owner string, fence int64, until time.Time) error {
	res, err := s.db.ExecContext(ctx, s.d.q(`UPDATE rotations SET lease_until = ? WHERE id = ? AND fence = ? AND lease_owner = ?`), micros(until), id, fence, owner)
	if err != nil {
		return s.mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return store.Errorf(store.ErrConflict, "rotation %s: lease lost to another process", id)
	}
	return nil
}

// ReleaseLease implements store.Journal.
func (s *Store) ReleaseLease(ctx context.Context, id string, fence int64) error {
	_, err := s.db.ExecContext(ctx, s.d.q(`UPDATE rotations SET lease_until = 0 WHERE id = ? AND fence = ?`), id, fence)
	return s.mapErr(err)
}

// AdvanceRotation implements store.Journal.
func (s *Store) AdvanceRotation(ctx context.Context, id string, fence int64, u store.RotationUpdate, rec audit.Record) (store.Rotation, error) {
	tx, err := s.begin(ctx)
	if err != nil {
		return store.Rotation{}, err
	}
	defer tx.Rollback()
	cur, err := scanRotation(tx.QueryRowContext(ctx, s.d.q(`SELECT `+rotationCols+` FROM rotations WHERE id = ?`), id))
	if errors.Is(err, sql.ErrNoRows) {
		return cur, store.Errorf(store.ErrNotFound, "rotation %s not found", id)
	}
	if err != nil {
		return cur, s.mapErr(err)
	}
	if cur.Fence != fence {
		return cur, store.Errorf(store.ErrConflict, "rotation %s: lease lost to another process (fence %d, held %d)", id, cur.Fence, fence)
	}
	now := s.now()
	if u.State != "" {
		cur.State = u.State
	}
	if u.PendingCiphertext != nil {
		cur.PendingCiphertext = u.PendingCiphertext
	}
	if u.OldMeta != nil {
		cur.OldMeta = u.OldMeta
	}
	if u.NewMeta != nil {
		cur.NewMeta = u.NewMeta
	}
	if u.LastError != nil {
		cur.LastError = *u.LastError
	}
	if u.Attempt > 0 {
		cur.Attempt = u.Attempt
	}
	cur.UpdatedAt = audit.Truncate(now)
	if _, err := tx.ExecContext(ctx, s.d.q(`UPDATE rotations SET state = ?, pending_ciphertext = ?, old_meta = ?, new_meta = ?, last_error = ?, attempt = ?, updated_at = ? WHERE id = ? AND fence = ?`),
		cur.State, cur.PendingCiphertext, metaJSON(cur.OldMeta), metaJSON(cur.NewMeta), cur.LastError, cur.Attempt, micros(now), id, fence); err != nil {
		return cur, s.mapErr(err)
	}
	project, envName, err := s.envOf(ctx, tx, cur.EnvID)
	if err != nil {
		return cur, err
	}
	rec.Env, rec.At = envName, now
	if rec.Name == "" {
		rec.Name = cur.Name
	}
	if _, err := s.appendAudit(ctx, tx, project, rec); err != nil {
		return cur, err
	}
	return cur, s.mapErr(tx.Commit())
}
