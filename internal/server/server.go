// Package server implements `slickenv server`: the HTTP/JSON API (package
// api) over a store.Store, for teams that share environments.
//
// # Zero knowledge
//
// The server stores what clients send: ciphertexts sealed on the client,
// wrapped data keys and metadata. It never holds a key and never sees a
// plaintext value; its access log records routes, codes and token ids, never
// bodies.
//
// # Scale-out
//
// The server keeps no state between requests: any number of replicas can
// serve one PostgreSQL database, whose transactions (sqlstore) serialise
// writers and reject stale ones with 409.
//
// # Authorisation
//
// Every /v1 request carries `Authorization: Bearer slk_…`. A token belongs
// to one project with a role (reader < member < admin < owner), and may be
// limited to one environment and to reads. Missing, unknown, expired and
// revoked tokens get 401; a token used outside its project or environment,
// or a write by a reader or read-only token, gets 403 and changes nothing.
// Readers may still append audit entries: that is how reads of values are
// recorded.
package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/slickenv/slickenv/internal/audit"
	"github.com/slickenv/slickenv/internal/server/api"
	"github.com/slickenv/slickenv/internal/store"
)

// Options tune a Server.
type Options struct {
	// Timeout bounds each request's work (default 30s); past it the
	// request fails with 504 and its transaction is rolled back.
	Timeout time.Duration
	// Log receives one access line per request (default: discard).
	Log *slog.Logger
}

// Server is the HTTP handler of the API, /healthz and /metrics.
type Server struct {
	b       *Backend
	log     *slog.Logger
	timeout time.Duration
	metrics *metrics
	mux     *http.ServeMux
}

// New returns a Server over b.
func New(b *Backend, opts Options) *Server {
	if opts.Timeout == 0 {
		opts.Timeout = 30 * time.Second
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s := &Server{b: b, log: opts.Log, timeout: opts.Timeout, metrics: newMetrics(), mux: http.NewServeMux()}
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /metrics", s.serveMetrics)
	s.routes()
	return s
}

// errForbidden is a token used out of its scope or beyond its role.
var errForbidden = errors.New("forbidden")

// errBadRequest wraps malformed bodies.
var errBadRequest = errors.New("bad request")

type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

// ServeHTTP serves a request, logging and counting it.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, code: http.StatusOK}
	info := &requestInfo{}
	r = r.WithContext(context.WithValue(r.Context(), infoKey{}, info))
	_, pattern := s.mux.Handler(r)
	route := "other"
	if pattern != "" {
		route = pattern
		if i := strings.IndexByte(route, ' '); i >= 0 {
			route = route[i+1:]
		}
	}
	s.mux.ServeHTTP(rec, r)
	elapsed := time.Since(start)
	s.metrics.observe(route, rec.code, elapsed)
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("method", r.Method), slog.String("route", route), slog.Int("status", rec.code),
		slog.Duration("duration", elapsed), slog.String("token", info.tokenID), slog.String("project", info.project),
		slog.String("remote", r.RemoteAddr))
}

type infoKey struct{}

// requestInfo collects what the access log says about a request.
type requestInfo struct{ tokenID, project string }

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := s.b.ping(ctx); err != nil {
		http.Error(w, "database unreachable", http.StatusServiceUnavailable)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	fmt.Fprintln(w, "ok")
}

// authenticate reads the bearer token.
func (s *Server) authenticate(r *http.Request) (Token, error) {
	h := r.Header.Get("Authorization")
	secret, ok := strings.CutPrefix(h, "Bearer ")
	if !ok || secret == "" {
		return Token{}, fmt.Errorf("%w: missing bearer token", ErrUnauthorized)
	}
	return s.b.Tokens.Authenticate(r.Context(), strings.TrimSpace(secret))
}

// perm is what an endpoint needs of a token.
type perm int

const (
	permRead  perm = iota // any role
	permAudit             // append an audit entry: any role, also read-only
	permWrite             // member or more, not read-only
	permAdmin             // admin or more, not read-only
)

// caller is the authenticated token of one request.
type caller struct {
	tok Token
	b   *Backend
}

// allow checks that the token may act on project/env ("" env: the whole
// project) with need.
func (c *caller) allow(project, env string, need perm) error {
	if project != c.tok.Project && c.tok.Project != AllProjects {
		return fmt.Errorf("%w: token %s is for project %q, not %q", errForbidden, c.tok.ID, c.tok.Project, project)
	}
	if c.tok.Env != "" && env != c.tok.Env {
		if env == "" {
			return fmt.Errorf("%w: token %s is limited to environment %q", errForbidden, c.tok.ID, c.tok.Env)
		}
		return fmt.Errorf("%w: token %s is limited to environment %q, not %q", errForbidden, c.tok.ID, c.tok.Env, env)
	}
	rank := roleRank[c.tok.Role]
	switch need {
	case permWrite, permAdmin:
		if c.tok.ReadOnly || rank < roleRank[RoleMember] {
			return fmt.Errorf("%w: token %s cannot write", errForbidden, c.tok.ID)
		}
		if need == permAdmin && rank < roleRank[RoleAdmin] {
			return fmt.Errorf("%w: token %s needs the admin role", errForbidden, c.tok.ID)
		}
	}
	return nil
}

// allowEnvID checks access to an environment named by id.
func (c *caller) allowEnvID(ctx context.Context, envID int64, need perm) error {
	project, env, err := c.b.envOf(ctx, envID)
	if err != nil {
		return err
	}
	return c.allow(project, env, need)
}

// allowRotation checks access to the environment of a rotation.
func (c *caller) allowRotation(ctx context.Context, id string, need perm) error {
	project, env, err := c.b.rotationOf(ctx, id)
	if err != nil {
		return err
	}
	return c.allow(project, env, need)
}

// stamp records the server-side identity of the caller in an audit record:
// the actor is what the client says, the token is what the server knows.
func (c *caller) stamp(rec *audit.Record) {
	d := make(map[string]any, len(rec.Detail)+1)
	for k, v := range rec.Detail {
		d[k] = v
	}
	d["token"] = c.tok.ID
	rec.Detail = d
}

// handle registers a POST endpoint decoding Req and encoding fn's result.
func handle[Req any](s *Server, path string, fn func(ctx context.Context, c *caller, req Req) (any, error)) {
	s.mux.HandleFunc("POST "+path, func(w http.ResponseWriter, r *http.Request) {
		tok, err := s.authenticate(r)
		if err != nil {
			s.writeError(w, err)
			return
		}
		if info, ok := r.Context().Value(infoKey{}).(*requestInfo); ok {
			info.tokenID, info.project = tok.ID, tok.Project
		}
		var req Req
		if err := decode(w, r, &req); err != nil {
			s.writeError(w, err)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.timeout)
		defer cancel()
		resp, err := fn(ctx, &caller{tok: tok, b: s.b}, req)
		if err == nil && ctx.Err() != nil {
			err = ctx.Err()
		}
		if err != nil {
			if errors.Is(err, errForbidden) {
				s.auditDenied(r.Context(), tok, path)
			}
			s.writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, resp)
	})
}

// decode reads one JSON value, rejecting unknown fields, trailing data
// and bodies over api.MaxBody. An empty body decodes as {}.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	body := http.MaxBytesReader(w, r.Body, api.MaxBody)
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	dec.UseNumber() // audit details keep their numbers' exact text
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return mbe
		}
		if errors.Is(err, io.EOF) {
			return nil
		}
		return fmt.Errorf("%w: invalid JSON body: %v", errBadRequest, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: trailing data after the JSON body", errBadRequest)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// errorBody maps an error to its status and body; the one place where
// store sentinels become HTTP.
func errorBody(err error) (int, api.ErrorBody) {
	var busy *store.BusyError
	var mbe *http.MaxBytesError
	msg := err.Error()
	switch {
	case errors.As(err, &busy):
		r := busy.Existing
		return http.StatusConflict, api.ErrorBody{Code: api.CodeBusy, Message: msg, Rotation: &r}
	case errors.As(err, &mbe):
		return http.StatusRequestEntityTooLarge, api.ErrorBody{Code: api.CodeTooLarge, Message: fmt.Sprintf("request body over %d bytes", api.MaxBody)}
	case errors.Is(err, errBadRequest):
		return http.StatusBadRequest, api.ErrorBody{Code: api.CodeBadRequest, Message: msg}
	case errors.Is(err, ErrUnauthorized):
		return http.StatusUnauthorized, api.ErrorBody{Code: api.CodeUnauthorized, Message: msg}
	case errors.Is(err, errForbidden):
		return http.StatusForbidden, api.ErrorBody{Code: api.CodeForbidden, Message: msg}
	case errors.Is(err, store.ErrReadOnly):
		return http.StatusForbidden, api.ErrorBody{Code: api.CodeReadOnly, Message: msg}
	case errors.Is(err, store.ErrNotFound):
		return http.StatusNotFound, api.ErrorBody{Code: api.CodeNotFound, Message: msg}
	case errors.Is(err, store.ErrExists):
		return http.StatusConflict, api.ErrorBody{Code: api.CodeExists, Message: msg}
	case errors.Is(err, store.ErrConflict):
		return http.StatusConflict, api.ErrorBody{Code: api.CodeConflict, Message: msg}
	case errors.Is(err, store.ErrLocked):
		return http.StatusServiceUnavailable, api.ErrorBody{Code: api.CodeLocked, Message: msg}
	case errors.Is(err, store.ErrCorrupt):
		return http.StatusInternalServerError, api.ErrorBody{Code: api.CodeCorrupt, Message: msg}
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout, api.ErrorBody{Code: api.CodeTimeout, Message: "the request took too long"}
	}
	return http.StatusInternalServerError, api.ErrorBody{Code: api.CodeInternal, Message: msg}
}

func (s *Server) writeError(w http.ResponseWriter, err error) {
	code, body := errorBody(err)
	if code == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="slickenv"`)
	}
	writeJSON(w, code, body)
}

// auditDenied records a refused request in the token's project's audit
// chain (the request itself changed nothing). Instance tokens have no
// project of their own: the access log covers them.
func (s *Server) auditDenied(ctx context.Context, tok Token, route string) {
	if tok.Project == AllProjects {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	rec := audit.Record{Actor: tok.Name, Action: "access.denied", Env: tok.Env, Outcome: audit.OutcomeDenied,
		Detail: map[string]any{"token": tok.ID, "route": route, "role": tok.Role}}
	if _, err := s.b.Store.AppendAudit(ctx, tok.Project, rec); err != nil {
		s.log.Warn("cannot audit a denied request", "token", tok.ID, "route", route, "error", err.Error())
	}
}
