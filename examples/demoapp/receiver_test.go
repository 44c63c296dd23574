package demoapp

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	oldSecret = "whsec_0123456789abcdef0123456789abcdef"
	newSecret = "whsec_fedcba9876543210fedcba9876543210"
)

func writeEnv(t *testing.T, path string, lines ...string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func post(t *testing.T, url string, body []byte, signature string) int {
	t.Helper()
	req, err := http.NewRequest("POST", url+"/webhook", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if signature != "" {
		req.Header.Set(SignatureHeader, signature)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestWebhookSignatures(t *testing.T) {
	body := []byte(`{"id":"evt_1","type":"invoice.paid"}`)
	valid := func(secret string) string { return Sign([]byte(secret), body) }
	tests := []struct {
		name      string
		env       []string
		signature string
		want      int
	}{
		{"current secret", []string{"WEBHOOK_SECRET=" + newSecret}, valid(newSecret), 200},
		{"unknown secret", []string{"WEBHOOK_SECRET=" + newSecret}, valid(oldSecret), 401},
		{"previous secret during rotation", []string{"WEBHOOK_SECRET=" + newSecret, "WEBHOOK_SECRET_PREVIOUS=" + oldSecret}, valid(oldSecret), 200},
		{"current secret during rotation", []string{"WEBHOOK_SECRET=" + newSecret, "WEBHOOK_SECRET_PREVIOUS=" + oldSecret}, valid(newSecret), 200},
		{"empty previous is ignored", []string{"WEBHOOK_SECRET=" + newSecret, "WEBHOOK_SECRET_PREVIOUS="}, Sign(nil, body), 401},
		{"missing header", []string{"WEBHOOK_SECRET=" + newSecret}, "", 401},
		{"no algorithm prefix", []string{"WEBHOOK_SECRET=" + newSecret}, strings.TrimPrefix(valid(newSecret), "sha256="), 401},
		{"other algorithm", []string{"WEBHOOK_SECRET=" + newSecret}, "sha1=" + strings.TrimPrefix(valid(newSecret), "sha256="), 401},
		{"not hex", []string{"WEBHOOK_SECRET=" + newSecret}, "sha256=zz", 401},
		{"truncated", []string{"WEBHOOK_SECRET=" + newSecret}, valid(newSecret)[:40], 401},
		{"signature of another body", []string{"WEBHOOK_SECRET=" + newSecret}, Sign([]byte(newSecret), []byte("{}")), 401},
		{"uppercase hex", []string{"WEBHOOK_SECRET=" + newSecret}, "sha256=" + strings.ToUpper(strings.TrimPrefix(valid(newSecret), "sha256=")), 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "app.env")
			writeEnv(t, path, tt.env...)
			r, err := NewReceiver(path)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(r.Handler())
			defer srv.Close()
			if got := post(t, srv.URL, body, tt.signature); got != tt.want {
				t.Errorf("status = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestWebhookMethodsAndLimits(t *testing.T) {
	t.Setenv("WEBHOOK_SECRET", newSecret)
	r, err := NewReceiver("")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/webhook")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET /webhook = %d, want 405", resp.StatusCode)
	}
	big := bytes.Repeat([]byte("a"), maxBodyBytes+1)
	if got := post(t, srv.URL, big, Sign([]byte(newSecret), big)); got != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body = %d, want 413", got)
	}
}

func TestNewReceiverErrors(t *testing.T) {
	dir := t.TempDir()
	noSecret := filepath.Join(dir, "none.env")
	writeEnv(t, noSecret, "WEBHOOK_SECRET_PREVIOUS="+oldSecret)
	bad := filepath.Join(dir, "bad.env")
	writeEnv(t, bad, `WEBHOOK_SECRET="`+newSecret)
	for name, path := range map[string]string{"missing file": filepath.Join(dir, "absent.env"), "no secret": noSecret, "malformed": bad} {
		t.Run(name, func(t *testing.T) {
			_, err := NewReceiver(path)
			if err == nil {
				t.Fatal("NewReceiver succeeded")
			}
			if strings.Contains(err.Error(), newSecret) || strings.Contains(err.Error(), oldSecret) {
				t.Errorf("error reveals a secret: %v", err)
			}
		})
	}
	t.Run("empty environment", func(t *testing.T) {
		t.Setenv("WEBHOOK_SECRET", "")
		if _, err := NewReceiver(""); err == nil {
			t.Fatal("NewReceiver succeeded without WEBHOOK_SECRET")
		}
	})
}

func TestReloadSwapsKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.env")
	writeEnv(t, path, "# comment", "OTHER=1", "WEBHOOK_SECRET="+oldSecret)
	r, err := NewReceiver(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	body := []byte(`{"id":"evt_2"}`)
	oldSig, newSig := Sign([]byte(oldSecret), body), Sign([]byte(newSecret), body)

	steps := []struct {
		name       string
		env        []string // nil: make the file unreadable by removing it
		keys       int
		generation int64
		old, new   int
	}{
		{"before rotation", nil, 1, 1, 200, 401},
		{"during the window", []string{"WEBHOOK_SECRET=" + newSecret, "WEBHOOK_SECRET_PREVIOUS=" + oldSecret}, 2, 2, 200, 200},
		{"after revoke", []string{"WEBHOOK_SECRET=" + newSecret}, 1, 3, 401, 200},
	}
	for i, s := range steps {
		if i > 0 {
			writeEnv(t, path, s.env...)
			n, err := r.Reload()
			if err != nil || n != s.keys {
				t.Fatalf("%s: Reload = %d, %v; want %d keys", s.name, n, err, s.keys)
			}
		}
		if h := r.Health(); h.Keys != s.keys || h.Generation != s.generation {
			t.Errorf("%s: health = %+v, want %d keys, generation %d", s.name, h, s.keys, s.generation)
		}
		if got := post(t, srv.URL, body, oldSig); got != s.old {
			t.Errorf("%s: old secret → %d, want %d", s.name, got, s.old)
		}
		if got := post(t, srv.URL, body, newSig); got != s.new {
			t.Errorf("%s: new secret → %d, want %d", s.name, got, s.new)
		}
	}

	// A failed reload keeps the keys in use.
	os.Remove(path)
	if _, err := r.Reload(); err == nil {
		t.Fatal("Reload of a missing file succeeded")
	}
	if h := r.Health(); h.Keys != 1 || h.Generation != 3 {
		t.Errorf("after failed reload: health = %+v", h)
	}
	if got := post(t, srv.URL, body, newSig); got != 200 {
		t.Errorf("after failed reload: new secret → %d, want 200", got)
	}
}

func TestHealthzRevealsNoSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.env")
	writeEnv(t, path, "WEBHOOK_SECRET="+newSecret, "WEBHOOK_SECRET_PREVIOUS="+oldSecret)
	r, err := NewReceiver(path)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(r.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /healthz = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		t.Fatalf("healthz body %q: %v", raw, err)
	}
	if len(fields) != 3 || fields["keys"] != 2.0 || fields["generation"] != 1.0 || fields["loaded_at"] == "" {
		t.Errorf("healthz body = %s", raw)
	}
	for _, s := range []string{newSecret, oldSecret, "0123456789abcdef", "fedcba9876543210"} {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("healthz body reveals %q: %s", s, raw)
		}
	}
}
