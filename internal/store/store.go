// Package store defines where environment versions, the rotation journal and
// the audit log live, behind one interface with several implementations:
// the embedded SQLite file (sqlstore), the server's PostgreSQL backend
// (sqlstore with the postgres dialect) and the HTTP client of
// `slickenv server`. The CLI never knows which one it talks to.
//
// # Contract
//
// A store holds only ciphertexts and metadata: it never sees a plaintext
// value. Every write is one transaction that also appends its audit entry,
// so a write whose audit entry cannot be recorded does not happen (the log
// fails closed). Writes to an environment name the version they are based
// on; when the environment has moved on, the write fails with ErrConflict
// and nothing is written.
package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/slickenv/slickenv/internal/audit"
)

// Sentinel errors. Implementations wrap them with context.
var (
	ErrNotFound = errors.New("not found")
	ErrExists   = errors.New("already exists")
	ErrConflict = errors.New("conflict")
	ErrReadOnly = errors.New("store is read-only")
	ErrLocked   = errors.New("store is locked by another process")
	ErrCorrupt  = errors.New("store is corrupted or not a slickenv store")
)

// Version kinds.
const (
	KindSet      = "set"
	KindUnset    = "unset"
	KindImport   = "import"
	KindRotate   = "rotate"
	KindRollback = "rollback"
)

// Env is one environment of a project.
type Env struct {
	ID        int64
	Project   string
	Name      string
	CreatedAt time.Time
}

// EnvKey is the environment's data key wrapped for one recipient.
type EnvKey struct {
	Recipient  string
	WrappedDEK []byte
}

// EnvVersion is one immutable, numbered version of an environment.
// Version 0 is the empty environment as created.
type EnvVersion struct {
	Version   int64
	CreatedAt time.Time
	Actor     string
	Kind      string
	Message   string
	Names     []string // names changed in this version (filled by Versions)
}

// ValueRow is one variable as changed in one environment version.
type ValueRow struct {
	Name        string
	EnvVersion  int64
	Ciphertext  []byte
	Fingerprint []byte
	ValueSince  time.Time // when this value first entered the environment
	Actor       string
	Deleted     bool
	CreatedAt   time.Time // when this row was written (the version's time)
}

// Change is one variable changed by a commit.
type Change struct {
	Name        string
	Ciphertext  []byte // nil when Deleted
	Fingerprint []byte
	ValueSince  time.Time
	Deleted     bool
}

// Commit describes a new environment version.
type Commit struct {
	EnvID   int64
	Base    int64 // the version the change was computed from
	Kind    string
	Actor   string
	Message string
	At      time.Time // zero: now
	Changes []Change
	Audit   audit.Record // appended in the same transaction; Env, Version, At filled by the store
}

// VersionQuery selects environment versions, newest first.
type VersionQuery struct {
	Name   string // only versions that changed this variable
	Limit  int    // 0: no limit
	Before int64  // only versions < Before; 0: no bound
}

// AuditQuery selects audit entries, oldest first.
type AuditQuery struct {
	Since time.Time
	Limit int // newest Limit entries (still returned oldest first); 0: all
}

// Store is the persistence interface. All methods are safe for concurrent use
// by several goroutines and several processes.
type Store interface {
	// CreateEnv creates an environment with its wrapped keys and appends rec
	// to the audit log in the same transaction. ErrExists when it exists.
	CreateEnv(ctx context.Context, project, name string, keys []EnvKey, rec audit.Record) (Env, error)
	// Env returns one environment; ErrNotFound when missing.
	Env(ctx context.Context, project, name string) (Env, error)
	// Envs lists a project's environments by name.
	Envs(ctx context.Context, project string) ([]Env, error)
	// EnvKeys returns the environment's wrapped data keys.
	EnvKeys(ctx context.Context, envID int64) ([]EnvKey, error)

	// Head returns the newest version (Version 0 when nothing was written).
	Head(ctx context.Context, envID int64) (EnvVersion, error)
	// Version returns one version; ErrNotFound when it does not exist.
	Version(ctx context.Context, envID, version int64) (EnvVersion, error)
	// Versions lists versions newest first.
	Versions(ctx context.Context, envID int64, q VersionQuery) ([]EnvVersion, error)
	// Snapshot returns the environment as of version: for each name the row
	// with the greatest env_version <= version, omitting deleted ones, by name.
	Snapshot(ctx context.Context, envID, version int64) ([]ValueRow, error)
	// Value returns one variable as of version; ErrNotFound when unset then.
	Value(ctx context.Context, envID int64, name string, version int64) (ValueRow, error)
	// ValueHistory returns the rows of one variable, newest first.
	ValueHistory(ctx context.Context, envID int64, name string, limit int) ([]ValueRow, error)
	// FirstSeen returns when a value with this fingerprint first entered the
	// variable, if it ever did.
	FirstSeen(ctx context.Context, envID int64, name string, fingerprint []byte) (time.Time, bool, error)

	// Commit writes a new version (Base+1) and its audit entry atomically.
	// ErrConflict (nothing written) when the head is no longer Base.
	Commit(ctx context.Context, c Commit) (EnvVersion, error)

	// AppendAudit appends one entry to the project's chain (for reads that
	// reveal values, and other events that change no version).
	AppendAudit(ctx context.Context, project string, rec audit.Record) (audit.Entry, error)
	// Audit returns a project's entries, oldest first.
	Audit(ctx context.Context, project string, q AuditQuery) ([]audit.Entry, error)
	// AuditHead returns the recorded end of a project's chain.
	AuditHead(ctx context.Context, project string) (audit.Head, error)

	// Journal: the rotation journal and its leases.
	Journal

	// Close releases the store.
	Close() error
}

// kindError is an error whose message stands alone but that matches a
// sentinel with errors.Is.
type kindError struct {
	msg  string
	kind error
}

func (e *kindError) Error() string { return e.msg }
func (e *kindError) Unwrap() error { return e.kind }

// Errorf returns an error with the formatted message that matches kind
// (ErrNotFound, ErrConflict …) with errors.Is, without repeating the
// sentinel's text. %w verbs in format keep wrapping as in fmt.Errorf.
func Errorf(kind error, format string, args ...any) error {
	err := fmt.Errorf(format, args...)
	return &kindError{msg: err.Error(), kind: kind}
}
