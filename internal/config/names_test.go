package config

import (
	"strings"
	"testing"
)

func TestValidNames(t *testing.T) {
	tests := []struct {
		fn    func(string) bool
		kind  string
		name  string
		valid bool
	}{
		{ValidProjectName, "project", "shop", true},
		{ValidProjectName, "project", "my-shop.v2_x", true},
		{ValidProjectName, "project", "0", true},
		{ValidProjectName, "project", strings.Repeat("a", 64), true},
		{ValidProjectName, "project", strings.Repeat("a", 65), false},
		{ValidProjectName, "project", "", false},
		{ValidProjectName, "project", ".hidden", false},
		{ValidProjectName, "project", "-x", false},
		{ValidProjectName, "project", "a/b", false},
		{ValidProjectName, "project", "Shop", false},
		{ValidEnvName, "env", "production", true},
		{ValidEnvName, "env", "pr-42_a", true},
		{ValidEnvName, "env", "prod.eu", false},
		{ValidEnvName, "env", "_x", false},
		{ValidEnvName, "env", "", false},
		{ValidEnvName, "env", "Prod", false},
		{ValidSecretName, "secret", "DATABASE_URL", true},
		{ValidSecretName, "secret", "a.b-c_D9", true},
		{ValidSecretName, "secret", "A B", false},
		{ValidSecretName, "secret", "", false},
		{ValidSecretName, "secret", "A=B", false},
	}
	for _, tt := range tests {
		t.Run(tt.kind+"/"+tt.name, func(t *testing.T) {
			if got := tt.fn(tt.name); got != tt.valid {
				t.Errorf("valid(%q) = %v, want %v", tt.name, got, tt.valid)
			}
		})
	}
}

func TestNormalizeSignal(t *testing.T) {
	tests := []struct{ in, want string }{
		{"HUP", "HUP"}, {"SIGHUP", "HUP"}, {"hup", "HUP"}, {"SigTerm", "TERM"},
		{"INT", "INT"}, {"USR1", "USR1"}, {"SIGUSR2", "USR2"}, {"QUIT", "QUIT"},
		{"KILL", ""}, {"SIG", ""}, {"", ""}, {"SIGSIGHUP", ""}, {"1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, ok := NormalizeSignal(tt.in)
			if got != tt.want || ok != (tt.want != "") {
				t.Errorf("NormalizeSignal(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
			}
		})
	}
}
