package server

import (
	"context"
	"fmt"
	"net/http"

	"github.com/slickenv/slickenv/internal/server/api"
	"github.com/slickenv/slickenv/internal/store"
)

// routes registers one endpoint per store.Store method. Each checks the
// token's scope before it touches the store, so that a refused request
// changes nothing.
func (s *Server) routes() {
	st := s.b.Store
	handle(s, api.PathWhoami, func(ctx context.Context, c *caller, _ api.Empty) (any, error) {
		return api.Whoami{TokenID: c.tok.ID, Name: c.tok.Name, Project: c.tok.Project, Role: c.tok.Role, Env: c.tok.Env, ReadOnly: c.tok.ReadOnly, ExpiresAt: c.tok.ExpiresAt}, nil
	})
	s.mux.HandleFunc("GET "+api.PathWhoami, func(w http.ResponseWriter, r *http.Request) {
		r.Method = http.MethodPost
		s.mux.ServeHTTP(w, r)
	})

	handle(s, api.PathCreateEnv, func(ctx context.Context, c *caller, req api.CreateEnvRequest) (any, error) {
		if err := c.allow(req.Project, req.Name, permAdmin); err != nil {
			return nil, err
		}
		c.stamp(&req.Record)
		return st.CreateEnv(ctx, req.Project, req.Name, req.Keys, req.Record)
	})
	handle(s, api.PathEnv, func(ctx context.Context, c *caller, req api.EnvRequest) (any, error) {
		if err := c.allow(req.Project, req.Name, permRead); err != nil {
			return nil, err
		}
		return st.Env(ctx, req.Project, req.Name)
	})
	handle(s, api.PathEnvs, func(ctx context.Context, c *caller, req api.ProjectRequest) (any, error) {
		// An environment-scoped token sees its own environment only.
		if err := c.allow(req.Project, c.tok.Env, permRead); err != nil {
			return nil, err
		}
		envs, err := st.Envs(ctx, req.Project)
		if err != nil || c.tok.Env == "" {
			return nonNil(envs), err
		}
		out := []store.Env{}
		for _, e := range envs {
			if e.Name == c.tok.Env {
				out = append(out, e)
			}
		}
		return out, nil
	})
	handle(s, api.PathEnvKeys, func(ctx context.Context, c *caller, req api.EnvIDRequest) (any, error) {
		if err := c.allowEnvID(ctx, req.EnvID, permRead); err != nil {
			return nil, err
		}
		keys, err := st.EnvKeys(ctx, req.EnvID)
		return nonNil(keys), err
	})
	handle(s, api.PathHead, func(ctx context.Context, c *caller, req api.EnvIDRequest) (any, error) {
		if err := c.allowEnvID(ctx, req.EnvID, permRead); err != nil {
			return nil, err
		}
		return st.Head(ctx, req.EnvID)
	})
	handle(s, api.PathVersion, func(ctx context.Context, c *caller, req api.VersionRequest) (any, error) {
		if err := c.allowEnvID(ctx, req.EnvID, permRead); err != nil {
			return nil, err
		}
		return st.Version(ctx, req.EnvID, req.Version)
	})
	handle(s, api.PathVersions, func(ctx context.Context, c *caller, req api.VersionsRequest) (any, error) {
		if err := c.allowEnvID(ctx, req.EnvID, permRead); err != nil {
			return nil, err
		}
		vs, err := st.Versions(ctx, req.EnvID, req.Query)
		return nonNil(vs), err
	})
	handle(s, api.PathSnapshot, func(ctx context.Context, c *caller, req api.VersionRequest) (any, error) {
		if err := c.allowEnvID(ctx, req.EnvID, permRead); err != nil {
			return nil, err
		}
		rows, err := st.Snapshot(ctx, req.EnvID, req.Version)
		return nonNil(rows), err
	})
	handle(s, api.PathValue, func(ctx context.Context, c *caller, req api.ValueRequest) (any, error) {
		if err := c.allowEnvID(ctx, req.EnvID, permRead); err != nil {
			return nil, err
		}
		return st.Value(ctx, req.EnvID, req.Name, req.Version)
	})
	handle(s, api.PathValueHistory, func(ctx context.Context, c *caller, req api.ValueHistoryRequest) (any, error) {
		if err := c.allowEnvID(ctx, req.EnvID, permRead); err != nil {
			return nil, err
		}
		rows, err := st.ValueHistory(ctx, req.EnvID, req.Name, req.Limit)
		return nonNil(rows), err
	})
	handle(s, api.PathFirstSeen, func(ctx context.Context, c *caller, req api.FirstSeenRequest) (any, error) {
		if err := c.allowEnvID(ctx, req.EnvID, permRead); err != nil {
			return nil, err
		}
		at, ok, err := st.FirstSeen(ctx, req.EnvID, req.Name, req.Fingerprint)
		return api.FirstSeenResponse{At: at, Found: ok}, err
	})
	handle(s, api.PathCommit, func(ctx context.Context, c *caller, req store.Commit) (any, error) {
		if err := c.allowEnvID(ctx, req.EnvID, permWrite); err != nil {
			return nil, err
		}
		if err := validCommit(req); err != nil {
			return nil, err
		}
		c.stamp(&req.Audit)
		return st.Commit(ctx, req)
	})

	handle(s, api.PathAppendAudit, func(ctx context.Context, c *caller, req api.AppendAuditRequest) (any, error) {
		if err := c.allow(req.Project, req.Record.Env, permAudit); err != nil {
			return nil, err
		}
		c.stamp(&req.Record)
		e, err := st.AppendAudit(ctx, req.Project, req.Record)
		return api.FromEntry(e), err
	})
	handle(s, api.PathAudit, func(ctx context.Context, c *caller, req api.AuditRequest) (any, error) {
		if err := c.allow(req.Project, "", permRead); err != nil {
			return nil, err
		}
		entries, err := st.Audit(ctx, req.Project, req.Query)
		out := make([]api.Entry, len(entries))
		for i, e := range entries {
			out[i] = api.FromEntry(e)
		}
		return out, err
	})
	handle(s, api.PathAuditHead, func(ctx context.Context, c *caller, req api.ProjectRequest) (any, error) {
		if err := c.allow(req.Project, "", permRead); err != nil {
			return nil, err
		}
		return st.AuditHead(ctx, req.Project)
	})

	handle(s, api.PathStartRotation, func(ctx context.Context, c *caller, req api.StartRotationRequest) (any, error) {
		if err := c.allowEnvID(ctx, req.Rotation.EnvID, permWrite); err != nil {
			return nil, err
		}
		c.stamp(&req.Record)
		return st.StartRotation(ctx, req.Rotation, req.Record)
	})
	handle(s, api.PathRotation, func(ctx context.Context, c *caller, req api.RotationRequest) (any, error) {
		if err := c.allowRotation(ctx, req.ID, permRead); err != nil {
			return nil, err
		}
		return st.Rotation(ctx, req.ID)
	})
	handle(s, api.PathOpenRotation, func(ctx context.Context, c *caller, req api.OpenRotationRequest) (any, error) {
		if err := c.allowEnvID(ctx, req.EnvID, permRead); err != nil {
			return nil, err
		}
		return st.OpenRotation(ctx, req.EnvID, req.Name)
	})
	handle(s, api.PathRotations, func(ctx context.Context, c *caller, req api.RotationsRequest) (any, error) {
		if err := c.allowEnvID(ctx, req.EnvID, permRead); err != nil {
			return nil, err
		}
		rs, err := st.Rotations(ctx, req.EnvID, req.Limit)
		return nonNil(rs), err
	})
	handle(s, api.PathTakeLease, func(ctx context.Context, c *caller, req api.TakeLeaseRequest) (any, error) {
		if err := c.allowRotation(ctx, req.ID, permWrite); err != nil {
			return nil, err
		}
		c.stamp(&req.Record)
		return st.TakeLease(ctx, req.ID, req.Owner, req.Until, req.ExpectFence, req.Record)
	})
	handle(s, api.PathRenewLease, func(ctx context.Context, c *caller, req api.RenewLeaseRequest) (any, error) {
		if err := c.allowRotation(ctx, req.ID, permWrite); err != nil {
			return nil, err
		}
		return api.Empty{}, st.RenewLease(ctx, req.ID, req.Owner, req.Fence, req.Until)
	})
	handle(s, api.PathReleaseLease, func(ctx context.Context, c *caller, req api.ReleaseLeaseRequest) (any, error) {
		if err := c.allowRotation(ctx, req.ID, permWrite); err != nil {
			return nil, err
		}
		return api.Empty{}, st.ReleaseLease(ctx, req.ID, req.Fence)
	})
	handle(s, api.PathAdvanceRotation, func(ctx context.Context, c *caller, req api.AdvanceRotationRequest) (any, error) {
		if err := c.allowRotation(ctx, req.ID, permWrite); err != nil {
			return nil, err
		}
		c.stamp(&req.Record)
		return st.AdvanceRotation(ctx, req.ID, req.Fence, req.Update, req.Record)
	})
}

// nonNil makes empty lists encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// validCommit rejects, with 400, commits the store would refuse with a
// plain error (a client's mistake is not a server error).
func validCommit(c store.Commit) error {
	if len(c.Changes) == 0 {
		return fmt.Errorf("%w: commit: no changes", errBadRequest)
	}
	for _, ch := range c.Changes {
		if ch.Name == "" {
			return fmt.Errorf("%w: commit: a change has no name", errBadRequest)
		}
		if !ch.Deleted && ch.Ciphertext == nil {
			return fmt.Errorf("%w: commit: change of %s has no ciphertext", errBadRequest, ch.Name)
		}
	}
	return nil
}
