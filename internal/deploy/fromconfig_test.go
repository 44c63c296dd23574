package deploy

import (
	"strings"
	"testing"

	"github.com/slickenv/slickenv/internal/config"
)

func TestFromConfig(t *testing.T) {
	targets, err := FromConfig([]config.Target{
		{Dotenv: ".env"},
		{Dotenv: "/srv/shop/.env"},
		{Command: []string{"systemctl", "reload", "shop"}},
		{Signal: &config.SignalTarget{Pidfile: "run/shop.pid", Signal: "HUP"}},
	}, "/work/proj")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"dotenv /work/proj/.env",
		"dotenv /srv/shop/.env",
		"command systemctl reload shop",
		"signal HUP to /work/proj/run/shop.pid",
	}
	if len(targets) != len(want) {
		t.Fatalf("%d targets, want %d", len(targets), len(want))
	}
	for i, target := range targets {
		if got := target.Describe(); got != want[i] {
			t.Errorf("targets[%d] = %q, want %q", i, got, want[i])
		}
	}
	if c := targets[2].(*commandTarget); c.dir != "/work/proj" {
		t.Errorf("command runs in %q", c.dir)
	}
}

func TestFromConfigErrors(t *testing.T) {
	tests := []struct {
		name   string
		target config.Target
		want   string
	}{
		{"empty", config.Target{}, "targets[1]: no dotenv, command or signal"},
		{"empty program", config.Target{Command: []string{""}}, "targets[1]: empty program name"},
		{"bad signal", config.Target{Signal: &config.SignalTarget{Pidfile: "x.pid", Signal: "KILL"}}, `targets[1]: unsupported signal "KILL"`},
		{"no pidfile", config.Target{Signal: &config.SignalTarget{Signal: "HUP"}}, "targets[1]: signal without a pidfile"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := FromConfig([]config.Target{{Dotenv: "ok.env"}, tt.target}, "/p")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want %q", err, tt.want)
			}
		})
	}
}
