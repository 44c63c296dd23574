package server

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/slickenv/slickenv/internal/audit"
	"github.com/slickenv/slickenv/internal/server/api"
	"github.com/slickenv/slickenv/internal/store"
)

type fixture struct {
	b   *Backend
	hs  *httptest.Server
	log *bytes.Buffer
	env store.Env // shop/production, with one commit
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	b, err := OpenBackend(ctx, BackendOptions{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	f := &fixture{b: b, log: &bytes.Buffer{}}
	srv := New(b, Options{Log: slog.New(slog.NewTextHandler(f.log, nil))})
	f.hs = httptest.NewServer(srv)
	t.Cleanup(f.hs.Close)
	if f.env, err = b.Store.CreateEnv(ctx, "shop", "production", nil, audit.Record{Action: "env.create"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Store.CreateEnv(ctx, "shop", "staging", nil, audit.Record{Action: "env.create"}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Store.Commit(ctx, store.Commit{EnvID: f.env.ID, Base: 0, Kind: store.KindSet, Actor: "t",
		Changes: []store.Change{{Name: "A", Ciphertext: []byte("sealed-a"), Fingerprint: []byte("fp")}}, Audit: audit.Record{Action: "set"}}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) token(t testing.TB, req TokenRequest) string {
	t.Helper()
	if req.Project == "" {
		req.Project = "shop"
	}
	secret, _, err := f.b.Tokens.Issue(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}

// post sends body (a value to encode, or raw []byte) and returns the status
// and the decoded error body.
func (f *fixture) post(t testing.TB, path, token string, body any) (int, api.ErrorBody, []byte) {
	t.Helper()
	raw, ok := body.([]byte)
	if !ok {
		var err error
		if raw, err = json.Marshal(body); err != nil {
			t.Fatal(err)
		}
	}
	req, _ := http.NewRequest(http.MethodPost, f.hs.URL+path, bytes.NewReader(raw))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := f.hs.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	var eb api.ErrorBody
	if resp.StatusCode != http.StatusOK {
		if err := json.Unmarshal(out, &eb); err != nil {
			t.Fatalf("%s: error body %q is not JSON: %v", path, out, err)
		}
	}
	return resp.StatusCode, eb, out
}

func commitBody(envID, base int64) store.Commit {
	return store.Commit{EnvID: envID, Base: base, Kind: store.KindSet, Actor: "t",
		Changes: []store.Change{{Name: "B", Ciphertext: []byte("sealed-b"), Fingerprint: []byte("fpb")}}, Audit: audit.Record{Action: "set"}}
}

func TestAuthFailures(t *testing.T) {
	f := newFixture(t)
	expired := f.token(t, TokenRequest{Role: RoleOwner, TTL: time.Hour})
	revoked := f.token(t, TokenRequest{Role: RoleOwner})
	rtok, err := f.b.Tokens.Authenticate(context.Background(), revoked)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.b.Tokens.Revoke(context.Background(), rtok.ID); err != nil {
		t.Fatal(err)
	}
	f.b.now = func() time.Time { return time.Now().Add(2 * time.Hour) }
	for _, tt := range []struct{ name, token string }{
		{"missing", ""},
		{"not a token", "hello"},
		{"wrong", "slk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},
		{"expired", expired},
		{"revoked", revoked},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, eb, _ := f.post(t, api.PathEnv, tt.token, api.EnvRequest{Project: "shop", Name: "production"})
			if code != http.StatusUnauthorized || eb.Code != api.CodeUnauthorized {
				t.Fatalf("status %d %+v, want 401", code, eb)
			}
		})
	}
}

func TestScopes(t *testing.T) {
	f := newFixture(t)
	reader := f.token(t, TokenRequest{Role: RoleReader})
	member := f.token(t, TokenRequest{Role: RoleMember})
	readOnly := f.token(t, TokenRequest{Role: RoleOwner, ReadOnly: true})
	staging := f.token(t, TokenRequest{Role: RoleMember, Env: "staging"})
	production := f.token(t, TokenRequest{Role: RoleMember, Env: "production"})
	other := f.token(t, TokenRequest{Role: RoleOwner, Project: "other"})
	owner := f.token(t, TokenRequest{Role: RoleOwner})

	for _, tt := range []struct {
		name  string
		token string
		path  string
		body  any
		want  int
	}{
		{"reader reads", reader, api.PathHead, api.EnvIDRequest{EnvID: f.env.ID}, 200},
		{"reader commits", reader, api.PathCommit, commitBody(f.env.ID, 1), 403},
		{"reader appends its read to the audit log", reader, api.PathAppendAudit, api.AppendAuditRequest{Project: "shop", Record: audit.Record{Action: "get", Env: "production"}}, 200},
		{"read-only owner commits", readOnly, api.PathCommit, commitBody(f.env.ID, 1), 403},
		{"member creates an environment", member, api.PathCreateEnv, api.CreateEnvRequest{Project: "shop", Name: "qa"}, 403},
		{"other project's token", other, api.PathHead, api.EnvIDRequest{EnvID: f.env.ID}, 403},
		{"other project's token by name", other, api.PathEnv, api.EnvRequest{Project: "shop", Name: "production"}, 403},
		{"staging token on production", staging, api.PathSnapshot, api.VersionRequest{EnvID: f.env.ID, Version: 1}, 403},
		{"staging token reads the project's audit", staging, api.PathAudit, api.AuditRequest{Project: "shop"}, 403},
		{"production token on production", production, api.PathSnapshot, api.VersionRequest{EnvID: f.env.ID, Version: 1}, 200},
		{"unknown env id", owner, api.PathHead, api.EnvIDRequest{EnvID: 999}, 404},
		{"owner creates an environment", owner, api.PathCreateEnv, api.CreateEnvRequest{Project: "shop", Name: "qa"}, 200},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, eb, _ := f.post(t, tt.path, tt.token, tt.body)
			if code != tt.want {
				t.Fatalf("status %d %+v, want %d", code, eb, tt.want)
			}
			if code == 403 && eb.Code != api.CodeForbidden {
				t.Fatalf("code %q, want %q", eb.Code, api.CodeForbidden)
			}
		})
	}
	// Nothing the refused requests tried was written.
	if h, _ := f.b.Store.Head(context.Background(), f.env.ID); h.Version != 1 {
		t.Fatalf("head %d after refused commits, want 1", h.Version)
	}
	// Each refusal is in the project's audit log, under the token's id.
	entries, _ := f.b.Store.Audit(context.Background(), "shop", store.AuditQuery{})
	denied := 0
	for _, e := range entries {
		if e.Action == "access.denied" && e.Outcome == audit.OutcomeDenied && strings.Contains(string(e.Detail), `"token":"tok_`) {
			denied++
		}
	}
	if denied != 5 { // the other project's token is audited in its own project
		t.Errorf("%d access.denied entries in shop's audit log, want 5", denied)
	}
	if others, _ := f.b.Store.Audit(context.Background(), "other", store.AuditQuery{}); len(others) != 2 {
		t.Errorf("%d entries in other's audit log, want its token's 2 refusals", len(others))
	}
	// An environment-scoped token lists only its environment.
	_, _, out := f.post(t, api.PathEnvs, staging, api.ProjectRequest{Project: "shop"})
	var envs []store.Env
	if err := json.Unmarshal(out, &envs); err != nil || len(envs) != 1 || envs[0].Name != "staging" {
		t.Fatalf("envs for a staging token = %s", out)
	}
}

func TestConflicts(t *testing.T) {
	f := newFixture(t)
	owner := f.token(t, TokenRequest{Role: RoleOwner})
	if code, eb, _ := f.post(t, api.PathCommit, owner, commitBody(f.env.ID, 0)); code != 409 || eb.Code != api.CodeConflict {
		t.Fatalf("stale commit: %d %+v", code, eb)
	}
	if code, eb, _ := f.post(t, api.PathCreateEnv, owner, api.CreateEnvRequest{Project: "shop", Name: "production"}); code != 409 || eb.Code != api.CodeExists {
		t.Fatalf("existing env: %d %+v", code, eb)
	}
	start := api.StartRotationRequest{Rotation: store.Rotation{ID: "rot_1", EnvID: f.env.ID, Name: "A", Provider: "random", State: "planned"}, Record: audit.Record{Action: "rotate.planned"}}
	if code, eb, _ := f.post(t, api.PathStartRotation, owner, start); code != 200 {
		t.Fatalf("start rotation: %d %+v", code, eb)
	}
	start.Rotation.ID = "rot_2"
	code, eb, _ := f.post(t, api.PathStartRotation, owner, start)
	if code != 409 || eb.Code != api.CodeBusy || eb.Rotation == nil || eb.Rotation.ID != "rot_1" {
		t.Fatalf("busy rotation: %d %+v", code, eb)
	}
}

func TestMalformedRequests(t *testing.T) {
	f := newFixture(t)
	owner := f.token(t, TokenRequest{Role: RoleOwner})
	for _, tt := range []struct {
		name string
		body []byte
		want int
		code string
	}{
		{"not JSON", []byte("{nope"), 400, api.CodeBadRequest},
		{"unknown field", []byte(`{"EnvID": 1, "Evil": true}`), 400, api.CodeBadRequest},
		{"wrong type", []byte(`{"EnvID": "one"}`), 400, api.CodeBadRequest},
		{"trailing data", []byte(`{"EnvID": 1} {}`), 400, api.CodeBadRequest},
		{"too large", append(append([]byte(`{"EnvID": 1, "X": "`), bytes.Repeat([]byte("a"), api.MaxBody)...), '"', '}'), 413, api.CodeTooLarge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, eb, _ := f.post(t, api.PathHead, owner, tt.body)
			if code != tt.want || eb.Code != tt.code || eb.Message == "" {
				t.Fatalf("status %d %+v, want %d %s", code, eb, tt.want, tt.code)
			}
		})
	}
	// The server keeps serving.
	if code, eb, _ := f.post(t, api.PathHead, owner, api.EnvIDRequest{EnvID: f.env.ID}); code != 200 {
		t.Fatalf("after malformed requests: %d %+v", code, eb)
	}
}

func TestHealthzAndMetrics(t *testing.T) {
	f := newFixture(t)
	owner := f.token(t, TokenRequest{Role: RoleOwner})
	f.post(t, api.PathHead, owner, api.EnvIDRequest{EnvID: f.env.ID})
	f.post(t, api.PathHead, "", api.EnvIDRequest{EnvID: f.env.ID})
	f.post(t, api.PathStartRotation, owner, api.StartRotationRequest{Rotation: store.Rotation{ID: "rot_1", EnvID: f.env.ID, Name: "A", State: "planned"}})

	resp, err := f.hs.Client().Get(f.hs.URL + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, err = f.hs.Client().Get(f.hs.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("content type %q", ct)
	}
	for _, want := range []string{
		`# TYPE slickenv_http_requests_total counter`,
		`slickenv_http_requests_total{route="/v1/head",code="200"} 1`,
		`slickenv_http_requests_total{route="/v1/head",code="401"} 1`,
		`slickenv_http_requests_total{route="/healthz",code="200"} 1`,
		`# TYPE slickenv_http_request_duration_seconds histogram`,
		`slickenv_http_request_duration_seconds_bucket{route="/v1/head",le="+Inf"} 2`,
		`slickenv_http_request_duration_seconds_count{route="/v1/head"} 2`,
		`slickenv_rotations{state="planned"} 1`,
		`slickenv_database_up 1`,
		`# TYPE slickenv_secret_age_seconds gauge`,
		`slickenv_secret_age_seconds{project="shop",env="production",name="A"} `,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}

func TestAccessLogHasNoBodies(t *testing.T) {
	f := newFixture(t)
	owner := f.token(t, TokenRequest{Role: RoleOwner})
	c := commitBody(f.env.ID, 1)
	c.Changes[0].Ciphertext = []byte("MARKER-CIPHERTEXT")
	if code, eb, _ := f.post(t, api.PathCommit, owner, c); code != 200 {
		t.Fatalf("commit: %d %+v", code, eb)
	}
	log := f.log.String()
	if !strings.Contains(log, "route=/v1/commit") || !strings.Contains(log, "status=200") || !strings.Contains(log, "token=tok_") {
		t.Fatalf("access log lacks the request: %s", log)
	}
	if strings.Contains(log, "MARKER") || strings.Contains(log, "TUFSS0VS") || strings.Contains(log, owner) {
		t.Fatalf("access log holds a body or the token: %s", log)
	}
}

func TestServerRecordsTokenInAudit(t *testing.T) {
	f := newFixture(t)
	owner := f.token(t, TokenRequest{Role: RoleOwner})
	if code, eb, _ := f.post(t, api.PathCommit, owner, commitBody(f.env.ID, 1)); code != 200 {
		t.Fatalf("commit: %d %+v", code, eb)
	}
	entries, err := f.b.Store.Audit(context.Background(), "shop", store.AuditQuery{Limit: 1})
	if err != nil || len(entries) != 1 || !strings.Contains(string(entries[0].Detail), `"token":"tok_`) {
		t.Fatalf("last audit entry %+v, %v: want the token id in its detail", entries, err)
	}
}

func TestRequestTimeout(t *testing.T) {
	f := newFixture(t)
	owner := f.token(t, TokenRequest{Role: RoleOwner})
	slow := httptest.NewServer(New(f.b, Options{Timeout: time.Nanosecond}))
	defer slow.Close()
	f.hs = slow
	if code, eb, _ := f.post(t, api.PathSnapshot, owner, api.VersionRequest{EnvID: f.env.ID, Version: 1}); code != http.StatusGatewayTimeout || eb.Code != api.CodeTimeout {
		t.Fatalf("status %d %+v, want 504", code, eb)
	}
}
