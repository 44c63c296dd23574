package server

import (
	"net/http"
	"testing"

	"github.com/slickenv/slickenv/internal/server/api"
)

// FuzzRequestBodies posts arbitrary bodies to every endpoint: the server
// answers each with a JSON error or a result, never a 5xx, and keeps serving.
func FuzzRequestBodies(f *testing.F) {
	for _, seed := range []string{``, `{}`, `null`, `[]`, `{"EnvID": 1}`, `{"EnvID": 1, "Version": -5}`, `{"Project": "shop", "Name": ""}`,
		`{"EnvID": 1, "Base": 1, "Changes": [{"Name": "", "Deleted": true}]}`, `{"ID": "", "Fence": -1}`, `{"Query": {"Limit": -1}}`, `{"EnvID": 1e400}`, "\xff"} {
		for i := range fuzzPaths {
			f.Add(i, []byte(seed))
		}
	}
	fx := newFixture(f)
	owner := fx.token(f, TokenRequest{Role: RoleOwner})
	f.Fuzz(func(t *testing.T, path int, body []byte) {
		if path < 0 || path >= len(fuzzPaths) {
			return
		}
		code, eb, _ := fx.post(t, fuzzPaths[path], owner, body)
		if code >= 500 {
			t.Fatalf("%s %q: %d %+v", fuzzPaths[path], body, code, eb)
		}
		if code, _, _ := fx.post(t, api.PathHead, owner, api.EnvIDRequest{EnvID: fx.env.ID}); code != http.StatusOK {
			t.Fatalf("server stopped serving after %s %q: %d", fuzzPaths[path], body, code)
		}
	})
}

var fuzzPaths = []string{api.PathCreateEnv, api.PathEnv, api.PathEnvs, api.PathEnvKeys, api.PathHead, api.PathVersion, api.PathVersions,
	api.PathSnapshot, api.PathValue, api.PathValueHistory, api.PathFirstSeen, api.PathCommit, api.PathAppendAudit, api.PathAudit,
	api.PathAuditHead, api.PathStartRotation, api.PathRotation, api.PathOpenRotation, api.PathRotations, api.PathTakeLease,
	api.PathRenewLease, api.PathReleaseLease, api.PathAdvanceRotation, api.PathWhoami}
