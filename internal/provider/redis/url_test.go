package redis

import (
	"net/url"
	"strings"
	"testing"

	"github.com/slickenv/slickenv/internal/secret"
)

func TestWithPassword(t *testing.T) {
	hard := "p@:/?#%&+ =é"
	tests := []struct {
		in, want string
	}{
		{"redis://app:old@127.0.0.1:6379/0", "redis://app:NEW@127.0.0.1:6379/0"},
		{"rediss://app:old@cache.example:6380/2?dial_timeout=3s&protocol=2", "rediss://app:NEW@cache.example:6380/2?dial_timeout=3s&protocol=2"},
		{"redis://:old@h:1", "redis://:NEW@h:1"},
		{"redis://app%2Dx:p%40%3A%2F%3F%23%25@h:1/0", "redis://app%2Dx:NEW@h:1/0"},
		{"redis://h:1/0", "redis://:NEW@h:1/0"},
		{"redis://app@h:1?x=a@b", "redis://app:NEW@h:1?x=a@b"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			u, err := parseURL(secret.New(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			for _, pw := range []string{"NEW", hard} {
				got := u.withPassword(pw)
				want := strings.Replace(tt.want, "NEW", url.UserPassword("", pw).String()[1:], 1)
				if got != want {
					t.Errorf("withPassword(%q) = %q, want %q", pw, got, want)
				}
				back, err := parseURL(secret.New(got))
				if err != nil {
					t.Fatalf("the new URL does not parse: %v", err)
				}
				if back.password != pw || back.user() != u.user() || back.host() != u.host() {
					t.Errorf("round trip: password ok=%v user %q host %q", back.password == pw, back.user(), back.host())
				}
			}
		})
	}
}

func TestParseURLErrorsOmitValue(t *testing.T) {
	for _, in := range []string{
		"",
		"postgres://u:secretvalue@h/db",
		"redis://u:secret%zzvalue@h/0",
		"redis://u:secret value@h:notaport/0",
		"redis:///0",
	} {
		_, err := parseURL(secret.New(in))
		if err == nil {
			t.Errorf("parseURL(%q) succeeded", in)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("error quotes the value: %v", err)
		}
	}
}

func TestDetect(t *testing.T) {
	p := &Provider{}
	for in, want := range map[string]bool{
		"redis://u:p@h:6379/0": true,
		"rediss://u:p@h:6380":  true,
		"postgres://u:p@h/db":  false,
		"REDIS://u:p@h":        false,
		"whsec_abc":            false,
	} {
		if got := p.Detect(secret.New(in)); got != want {
			t.Errorf("Detect(%q) = %v", in, got)
		}
	}
}

func TestScrub(t *testing.T) {
	pw := "p@:/?#% x"
	for _, form := range []string{pw, url.QueryEscape(pw), url.PathEscape(pw), url.UserPassword("", pw).String()[1:]} {
		err := scrub(errorString("failed: "+form+" end"), pw)
		if strings.Contains(err.Error(), form) || !strings.Contains(err.Error(), "**redacted**") {
			t.Errorf("scrub left %q in %q", form, err)
		}
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }
