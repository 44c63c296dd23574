// Package api holds the wire format of `slickenv server`'s HTTP/JSON API,
// shared by the server and its client: one POST endpoint under /v1 per
// store.Store method, request and response bodies as JSON, error bodies
// with a stable machine code.
//
// # Encoding
//
// Field names follow the Go structs of package store (EnvID, Ciphertext …);
// []byte fields are base64 strings, times RFC 3339 with nanoseconds. Audit
// entries travel as Entry, which keeps the hashes and the exact detail bytes
// so that a client can verify the chain.
package api

import (
	"time"

	"github.com/slickenv/slickenv/internal/audit"
	"github.com/slickenv/slickenv/internal/store"
)

// Paths of the endpoints, one per store.Store method.
const (
	PathCreateEnv       = "/v1/create_env"
	PathEnv             = "/v1/env"
	PathEnvs            = "/v1/envs"
	PathEnvKeys         = "/v1/env_keys"
	PathHead            = "/v1/head"
	PathVersion         = "/v1/version"
	PathVersions        = "/v1/versions"
	PathSnapshot        = "/v1/snapshot"
	PathValue           = "/v1/value"
	PathValueHistory    = "/v1/value_history"
	PathFirstSeen       = "/v1/first_seen"
	PathCommit          = "/v1/commit"
	PathAppendAudit     = "/v1/append_audit"
	PathAudit           = "/v1/audit"
	PathAuditHead       = "/v1/audit_head"
	PathStartRotation   = "/v1/start_rotation"
	PathRotation        = "/v1/rotation"
	PathOpenRotation    = "/v1/open_rotation"
	PathRotations       = "/v1/rotations"
	PathTakeLease       = "/v1/take_lease"
	PathRenewLease      = "/v1/renew_lease"
	PathReleaseLease    = "/v1/release_lease"
	PathAdvanceRotation = "/v1/advance_rotation"
	// PathWhoami describes the caller's token (GET or POST, empty body).
	PathWhoami = "/v1/whoami"
)

// MaxBody is the largest request body the server accepts (413 beyond).
const MaxBody = 4 << 20

// Error codes in ErrorBody.Code.
const (
	CodeBadRequest   = "bad_request"   // 400: malformed JSON, unknown fields
	CodeUnauthorized = "unauthorized"  // 401: missing, wrong, expired or revoked token
	CodeForbidden    = "forbidden"     // 403: token out of scope, or role too weak
	CodeReadOnly     = "read_only"     // 403: store.ErrReadOnly
	CodeNotFound     = "not_found"     // 404: store.ErrNotFound
	CodeConflict     = "conflict"      // 409: store.ErrConflict
	CodeBusy         = "rotation_busy" // 409: *store.BusyError (Rotation set)
	CodeExists       = "exists"        // 409: store.ErrExists
	CodeTooLarge     = "too_large"     // 413: body over MaxBody
	CodeLocked       = "locked"        // 503: store.ErrLocked
	CodeCorrupt      = "corrupt"       // 500: store.ErrCorrupt
	CodeTimeout      = "timeout"       // 504: the request's deadline passed
	CodeInternal     = "internal"      // 500: anything else
)

// ErrorBody is the body of every non-2xx response.
type ErrorBody struct {
	Code     string          `json:"code"`
	Message  string          `json:"message"`
	Rotation *store.Rotation `json:"rotation,omitempty"` // CodeBusy: the unfinished rotation
}

// Empty is the response of methods that return only an error.
type Empty struct{}

// CreateEnvRequest is the body of PathCreateEnv (response: store.Env).
type CreateEnvRequest struct {
	Project string
	Name    string
	Keys    []store.EnvKey
	Record  audit.Record
}

// EnvRequest is the body of PathEnv (response: store.Env).
type EnvRequest struct{ Project, Name string }

// ProjectRequest is the body of PathEnvs ([]store.Env) and PathAuditHead (audit.Head).
type ProjectRequest struct{ Project string }

// EnvIDRequest is the body of PathEnvKeys ([]store.EnvKey) and PathHead (store.EnvVersion).
type EnvIDRequest struct{ EnvID int64 }

// VersionRequest is the body of PathVersion (store.EnvVersion) and PathSnapshot ([]store.ValueRow).
type VersionRequest struct {
	EnvID   int64
	Version int64
}

// VersionsRequest is the body of PathVersions ([]store.EnvVersion).
type VersionsRequest struct {
	EnvID int64
	Query store.VersionQuery
}

// ValueRequest is the body of PathValue (store.ValueRow).
type ValueRequest struct {
	EnvID   int64
	Name    string
	Version int64
}

// ValueHistoryRequest is the body of PathValueHistory ([]store.ValueRow).
type ValueHistoryRequest struct {
	EnvID int64
	Name  string
	Limit int
}

// FirstSeenRequest is the body of PathFirstSeen.
type FirstSeenRequest struct {
	EnvID       int64
	Name        string
	Fingerprint []byte
}

// FirstSeenResponse answers PathFirstSeen.
type FirstSeenResponse struct {
	At    time.Time
	Found bool
}

// The body of PathCommit is a store.Commit (response: store.EnvVersion).

// AppendAuditRequest is the body of PathAppendAudit (response: Entry).
type AppendAuditRequest struct {
	Project string
	Record  audit.Record
}

// AuditRequest is the body of PathAudit (response: []Entry).
type AuditRequest struct {
	Project string
	Query   store.AuditQuery
}

// Entry is an audit.Entry on the wire: unlike audit.Entry's own JSON it
// carries the hashes, and Detail as the exact stored bytes (base64).
type Entry struct {
	Project  string
	Seq      int64
	At       time.Time
	Actor    string
	Action   string
	Env      string
	Name     string
	Version  int64
	Outcome  string
	Detail   []byte
	PrevHash []byte
	Hash     []byte
}

// FromEntry converts an audit entry for the wire.
func FromEntry(e audit.Entry) Entry {
	return Entry{e.Project, e.Seq, e.At, e.Actor, e.Action, e.Env, e.Name, e.Version, e.Outcome, []byte(e.Detail), e.PrevHash, e.Hash}
}

// AuditEntry converts a wire entry back.
func (e Entry) AuditEntry() audit.Entry {
	return audit.Entry{Project: e.Project, Seq: e.Seq, At: e.At, Actor: e.Actor, Action: e.Action, Env: e.Env, Name: e.Name,
		Version: e.Version, Outcome: e.Outcome, Detail: e.Detail, PrevHash: e.PrevHash, Hash: e.Hash}
}

// StartRotationRequest is the body of PathStartRotation (response: store.Rotation).
type StartRotationRequest struct {
	Rotation store.Rotation
	Record   audit.Record
}

// RotationRequest is the body of PathRotation (response: store.Rotation).
type RotationRequest struct{ ID string }

// OpenRotationRequest is the body of PathOpenRotation (response: store.Rotation).
type OpenRotationRequest struct {
	EnvID int64
	Name  string
}

// RotationsRequest is the body of PathRotations (response: []store.Rotation).
type RotationsRequest struct {
	EnvID int64
	Limit int
}

// TakeLeaseRequest is the body of PathTakeLease (response: store.Rotation).
type TakeLeaseRequest struct {
	ID          string
	Owner       string
	Until       time.Time
	ExpectFence int64
	Record      audit.Record
}

// RenewLeaseRequest is the body of PathRenewLease (response: Empty).
type RenewLeaseRequest struct {
	ID    string
	Owner string
	Fence int64
	Until time.Time
}

// ReleaseLeaseRequest is the body of PathReleaseLease (response: Empty).
type ReleaseLeaseRequest struct {
	ID    string
	Fence int64
}

// AdvanceRotationRequest is the body of PathAdvanceRotation (response: store.Rotation).
type AdvanceRotationRequest struct {
	ID     string
	Fence  int64
	Update store.RotationUpdate
	Record audit.Record
}

// Whoami answers PathWhoami.
type Whoami struct {
	TokenID   string
	Name      string
	Project   string
	Role      string
	Env       string `json:",omitempty"`
	ReadOnly  bool
	ExpiresAt time.Time `json:",omitempty"`
}
