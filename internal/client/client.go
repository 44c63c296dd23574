// Package client implements store.Store over the HTTP/JSON API of
// `slickenv server` (package server/api), so that every command works
// against a server unchanged.
//
// # Errors
//
// Server errors come back as the store's sentinels: errors.Is(err,
// store.ErrConflict) holds after a 409, errors.As with a *store.BusyError
// target after a 409 naming an unfinished rotation, and so on. A rejected token
// matches ErrUnauthorized, a token used out of scope ErrForbidden.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/slickenv/slickenv/internal/audit"
	"github.com/slickenv/slickenv/internal/server/api"
	"github.com/slickenv/slickenv/internal/store"
)

// Errors for what has no store sentinel.
var (
	// ErrUnauthorized: the server refused the token (missing, wrong,
	// expired or revoked): log in again.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrForbidden: the token does not allow this project, environment or
	// write.
	ErrForbidden = errors.New("forbidden")
)

// Client is a store.Store on a slickenv server.
type Client struct {
	base  string
	token string
	http  *http.Client
}

var _ store.Store = (*Client)(nil)

// New returns a client of the server at baseURL (https://host:port, no
// /v1) authenticating with token. A nil hc uses a client with a 60s
// timeout.
func New(baseURL, token string, hc *http.Client) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), token: token, http: hc}
}

// Close releases idle connections. The client stays usable.
func (c *Client) Close() error {
	c.http.CloseIdleConnections()
	return nil
}

// call posts req to path and decodes the answer into resp.
func (c *Client) call(ctx context.Context, path string, req, resp any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("server %s: encode request: %w", c.base, err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("server %s: %w", c.base, err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.token)
	}
	hresp, err := c.http.Do(hreq)
	if err != nil {
		return fmt.Errorf("server %s: %w", c.base, err)
	}
	defer hresp.Body.Close()
	if hresp.StatusCode != http.StatusOK {
		return c.responseError(hresp)
	}
	if err := json.NewDecoder(hresp.Body).Decode(resp); err != nil {
		return fmt.Errorf("server %s: decode %s response: %w", c.base, path, err)
	}
	return nil
}

// responseError turns an error response back into the store's sentinels.
func (c *Client) responseError(resp *http.Response) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	var eb api.ErrorBody
	if err := json.Unmarshal(raw, &eb); err != nil || eb.Code == "" {
		return fmt.Errorf("server %s: HTTP %d: %s", c.base, resp.StatusCode, strings.TrimSpace(string(raw)))
	}
	msg := "server " + c.base + ": " + eb.Message
	switch eb.Code {
	case api.CodeBusy:
		if eb.Rotation != nil {
			return &store.BusyError{Existing: *eb.Rotation}
		}
		return store.Errorf(store.ErrConflict, "%s", msg)
	case api.CodeConflict:
		return store.Errorf(store.ErrConflict, "%s", msg)
	case api.CodeExists:
		return store.Errorf(store.ErrExists, "%s", msg)
	case api.CodeNotFound:
		return store.Errorf(store.ErrNotFound, "%s", msg)
	case api.CodeReadOnly:
		return store.Errorf(store.ErrReadOnly, "%s", msg)
	case api.CodeLocked:
		return store.Errorf(store.ErrLocked, "%s", msg)
	case api.CodeCorrupt:
		return store.Errorf(store.ErrCorrupt, "%s", msg)
	case api.CodeUnauthorized:
		return store.Errorf(ErrUnauthorized, "%s", msg)
	case api.CodeForbidden:
		return store.Errorf(ErrForbidden, "%s", msg)
	}
	return fmt.Errorf("%s (HTTP %d, %s)", msg, resp.StatusCode, eb.Code)
}

// Whoami describes the client's token.
func (c *Client) Whoami(ctx context.Context) (api.Whoami, error) {
	var w api.Whoami
	err := c.call(ctx, api.PathWhoami, api.Empty{}, &w)
	return w, err
}

// CreateEnv implements store.Store.
func (c *Client) CreateEnv(ctx context.Context, project, name string, keys []store.EnvKey, rec audit.Record) (store.Env, error) {
	var e store.Env
	err := c.call(ctx, api.PathCreateEnv, api.CreateEnvRequest{Project: project, Name: name, Keys: keys, Record: rec}, &e)
	return e, err
}

// Env implements store.Store.
func (c *Client) Env(ctx context.Context, project, name string) (store.Env, error) {
	var e store.Env
	err := c.call(ctx, api.PathEnv, api.EnvRequest{Project: project, Name: name}, &e)
	return e, err
}

// Envs implements store.Store.
func (c *Client) Envs(ctx context.Context, project string) ([]store.Env, error) {
	var es []store.Env
	err := c.call(ctx, api.PathEnvs, api.ProjectRequest{Project: project}, &es)
	return es, err
}

// EnvKeys implements store.Store.
func (c *Client) EnvKeys(ctx context.Context, envID int64) ([]store.EnvKey, error) {
	var ks []store.EnvKey
	err := c.call(ctx, api.PathEnvKeys, api.EnvIDRequest{EnvID: envID}, &ks)
	return ks, err
}

// Head implements store.Store.
func (c *Client) Head(ctx context.Context, envID int64) (store.EnvVersion, error) {
	var v store.EnvVersion
	err := c.call(ctx, api.PathHead, api.EnvIDRequest{EnvID: envID}, &v)
	return v, err
}

// Version implements store.Store.
func (c *Client) Version(ctx context.Context, envID, version int64) (store.EnvVersion, error) {
	var v store.EnvVersion
	err := c.call(ctx, api.PathVersion, api.VersionRequest{EnvID: envID, Version: version}, &v)
	return v, err
}

// Versions implements store.Store.
func (c *Client) Versions(ctx context.Context, envID int64, q store.VersionQuery) ([]store.EnvVersion, error) {
	var vs []store.EnvVersion
	err := c.call(ctx, api.PathVersions, api.VersionsRequest{EnvID: envID, Query: q}, &vs)
	return vs, err
}

// Snapshot implements store.Store.
func (c *Client) Snapshot(ctx context.Context, envID, version int64) ([]store.ValueRow, error) {
	var rows []store.ValueRow
	err := c.call(ctx, api.PathSnapshot, api.VersionRequest{EnvID: envID, Version: version}, &rows)
	return rows, err
}

// Value implements store.Store.
func (c *Client) Value(ctx context.Context, envID int64, name string, version int64) (store.ValueRow, error) {
	var row store.ValueRow
	err := c.call(ctx, api.PathValue, api.ValueRequest{EnvID: envID, Name: name, Version: version}, &row)
	return row, err
}

// ValueHistory implements store.Store.
func (c *Client) ValueHistory(ctx context.Context, envID int64, name string, limit int) ([]store.ValueRow, error) {
	var rows []store.ValueRow
	err := c.call(ctx, api.PathValueHistory, api.ValueHistoryRequest{EnvID: envID, Name: name, Limit: limit}, &rows)
	return rows, err
}

// FirstSeen implements store.Store.
func (c *Client) FirstSeen(ctx context.Context, envID int64, name string, fingerprint []byte) (time.Time, bool, error) {
	var r api.FirstSeenResponse
	err := c.call(ctx, api.PathFirstSeen, api.FirstSeenRequest{EnvID: envID, Name: name, Fingerprint: fingerprint}, &r)
	return r.At, r.Found, err
}

// Commit implements store.Store.
func (c *Client) Commit(ctx context.Context, cm store.Commit) (store.EnvVersion, error) {
	var v store.EnvVersion
	err := c.call(ctx, api.PathCommit, cm, &v)
	return v, err
}

// AppendAudit implements store.Store.
func (c *Client) AppendAudit(ctx context.Context, project string, rec audit.Record) (audit.Entry, error) {
	var e api.Entry
	if err := c.call(ctx, api.PathAppendAudit, api.AppendAuditRequest{Project: project, Record: rec}, &e); err != nil {
		return audit.Entry{}, err
	}
	return e.AuditEntry(), nil
}

// Audit implements store.Store.
func (c *Client) Audit(ctx context.Context, project string, q store.AuditQuery) ([]audit.Entry, error) {
	var wire []api.Entry
	if err := c.call(ctx, api.PathAudit, api.AuditRequest{Project: project, Query: q}, &wire); err != nil {
		return nil, err
	}
	out := make([]audit.Entry, len(wire))
	for i, e := range wire {
		out[i] = e.AuditEntry()
	}
	return out, nil
}

// AuditHead implements store.Store.
func (c *Client) AuditHead(ctx context.Context, project string) (audit.Head, error) {
	var h audit.Head
	err := c.call(ctx, api.PathAuditHead, api.ProjectRequest{Project: project}, &h)
	return h, err
}

// StartRotation implements store.Journal.
func (c *Client) StartRotation(ctx context.Context, r store.Rotation, rec audit.Record) (store.Rotation, error) {
	var out store.Rotation
	err := c.call(ctx, api.PathStartRotation, api.StartRotationRequest{Rotation: r, Record: rec}, &out)
	return out, err
}

// Rotation implements store.Journal.
func (c *Client) Rotation(ctx context.Context, id string) (store.Rotation, error) {
	var out store.Rotation
	err := c.call(ctx, api.PathRotation, api.RotationRequest{ID: id}, &out)
	return out, err
}

// OpenRotation implements store.Journal.
func (c *Client) OpenRotation(ctx context.Context, envID int64, name string) (store.Rotation, error) {
	var out store.Rotation
	err := c.call(ctx, api.PathOpenRotation, api.OpenRotationRequest{EnvID: envID, Name: name}, &out)
	return out, err
}

// Rotations implements store.Journal.
func (c *Client) Rotations(ctx context.Context, envID int64, limit int) ([]store.Rotation, error) {
	var out []store.Rotation
	err := c.call(ctx, api.PathRotations, api.RotationsRequest{EnvID: envID, Limit: limit}, &out)
	return out, err
}

// TakeLease implements store.Journal.
func (c *Client) TakeLease(ctx context.Context, id, owner string, until time.Time, expectFence int64, rec audit.Record) (store.Rotation, error) {
	var out store.Rotation
	err := c.call(ctx, api.PathTakeLease, api.TakeLeaseRequest{ID: id, Owner: owner, Until: until, ExpectFence: expectFence, Record: rec}, &out)
	return out, err
}

// RenewLease implements store.Journal.
func (c *Client) RenewLease(ctx context.Context, id, owner string, fence int64, until time.Time) error {
	return c.call(ctx, api.PathRenewLease, api.RenewLeaseRequest{ID: id, Owner: owner, Fence: fence, Until: until}, &api.Empty{})
}

// ReleaseLease implements store.Journal.
func (c *Client) ReleaseLease(ctx context.Context, id string, fence int64) error {
	return c.call(ctx, api.PathReleaseLease, api.ReleaseLeaseRequest{ID: id, Fence: fence}, &api.Empty{})
}

// AdvanceRotation implements store.Journal.
func (c *Client) AdvanceRotation(ctx context.Context, id string, fence int64, u store.RotationUpdate, rec audit.Record) (store.Rotation, error) {
	var out store.Rotation
	err := c.call(ctx, api.PathAdvanceRotation, api.AdvanceRotationRequest{ID: id, Fence: fence, Update: u, Record: rec}, &out)
	return out, err
}
