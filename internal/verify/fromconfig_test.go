package verify

import (
	"strings"
	"testing"
	"time"

	"github.com/slickenv/slickenv/internal/config"
)

func TestFromConfig(t *testing.T) {
	checks, err := FromConfig([]config.Check{
		{HTTP: &config.HTTPCheck{URL: "http://127.0.0.1:8080/healthz", Every: config.Duration(2 * time.Second), MinSuccess: 0.99}},
		{Command: []string{"./scripts/smoke.sh", "--quick"}},
	}, "/work/proj")
	if err != nil {
		t.Fatal(err)
	}
	if len(checks) != 2 {
		t.Fatalf("%d checks", len(checks))
	}
	h := checks[0].(*httpCheck)
	if h.url != "http://127.0.0.1:8080/healthz" || h.every != 2*time.Second || h.minSuccess != 0.99 || h.timeout != 2*time.Second {
		t.Errorf("http check %+v", h)
	}
	c := checks[1].(*Command)
	if c.Dir != "/work/proj" || c.Every != 0 || c.Describe() != "command ./scripts/smoke.sh --quick" {
		t.Errorf("command check %+v", c)
	}
}

func TestFromConfigErrors(t *testing.T) {
	tests := []struct {
		name  string
		check config.Check
		want  string
	}{
		{"empty", config.Check{}, "checks[1]: no http or command"},
		{"no url", config.Check{HTTP: &config.HTTPCheck{Every: config.Duration(time.Second)}}, "checks[1]: http check without a url"},
		{"zero every", config.Check{HTTP: &config.HTTPCheck{URL: "http://x"}}, "checks[1]: http every must be greater than zero"},
		{"min_success", config.Check{HTTP: &config.HTTPCheck{URL: "http://x", Every: 1, MinSuccess: 1.5}}, "checks[1]: http min_success 1.5 is out of range"},
		{"empty program", config.Check{Command: []string{""}}, "checks[1]: empty program name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromConfig([]config.Check{{Command: []string{"true"}}, tt.check}, "/p")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
}
