package config

import (
	"testing"
	"time"
)

func TestSecretPolicy(t *testing.T) {
	d := func(days int) Duration { return Duration(time.Duration(days) * Day) }
	tests := []struct {
		name    string
		project Policy
		secret  *Secret // nil: the variable is not configured
		want    Policy
	}{
		{"no policy at all", Policy{}, nil, Policy{d(90), d(180)}},
		{"project policy", Policy{d(30), d(60)}, nil, Policy{d(30), d(60)}},
		{"project max only: warn at half", Policy{MaxAge: d(60)}, nil, Policy{d(30), d(60)}},
		{"project warn only: no max", Policy{WarnAfter: d(30)}, nil, Policy{WarnAfter: d(30)}},
		{"secret without overrides", Policy{d(30), d(60)}, &Secret{Provider: "random"}, Policy{d(30), d(60)}},
		{"secret overrides both", Policy{d(30), d(60)}, &Secret{WarnAfter: d(5), MaxAge: d(10)}, Policy{d(5), d(10)}},
		{"secret max, default policy: half", Policy{}, &Secret{MaxAge: d(30)}, Policy{d(15), d(30)}},
		{"secret max scaled by project ratio", Policy{d(60), d(90)}, &Secret{MaxAge: d(30)}, Policy{d(20), d(30)}},
		{"secret max, project max only: half", Policy{MaxAge: d(90)}, &Secret{MaxAge: d(30)}, Policy{d(15), d(30)}},
		{"secret max, project warn only: half", Policy{WarnAfter: d(10)}, &Secret{MaxAge: d(30)}, Policy{d(15), d(30)}},
		{"secret max above project max", Policy{d(90), d(180)}, &Secret{MaxAge: d(365)}, Policy{Duration(182*Day + 12*time.Hour), d(365)}},
		{"ratio of one", Policy{d(90), d(90)}, &Secret{MaxAge: d(30)}, Policy{d(30), d(30)}},
		{"secret warn only keeps project max", Policy{d(30), d(60)}, &Secret{WarnAfter: d(45)}, Policy{d(45), d(60)}},
		{"secret warn only, no policy", Policy{}, &Secret{WarnAfter: d(10)}, Policy{d(10), d(180)}},
		{"hand-built warn above max is clamped", Policy{d(30), d(60)}, &Secret{WarnAfter: d(90)}, Policy{d(60), d(60)}},
		{"hand-built project ratio above one", Policy{d(100), d(50)}, &Secret{MaxAge: d(30)}, Policy{d(30), d(30)}},
		{"huge durations do not overflow", Policy{Duration(1<<62 - 1), Duration(1 << 62)}, &Secret{MaxAge: Duration(1<<63 - 1)}, Policy{Duration(1<<63 - 3), Duration(1<<63 - 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := &Config{Project: "shop", Policy: tt.project}
			if tt.secret != nil {
				cfg.Secrets = map[string]Secret{"K": *tt.secret}
			}
			got := cfg.SecretPolicy("K")
			if got != tt.want {
				t.Errorf("SecretPolicy = {%v %v}, want {%v %v}", got.WarnAfter, got.MaxAge, tt.want.WarnAfter, tt.want.MaxAge)
			}
		})
	}
}

func TestSecretPolicyFromFile(t *testing.T) {
	cfg, err := Parse([]byte(`project: shop
policy: { warn_after: 60d, max_age: 90d }
secrets:
  DATABASE_URL: { max_age: 30d }
  API_KEY: { warn_after: 20d }
`), "f.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		want Policy
	}{
		{"DATABASE_URL", Policy{Duration(20 * Day), Duration(30 * Day)}},
		{"API_KEY", Policy{Duration(20 * Day), Duration(90 * Day)}},
		{"UNCONFIGURED", Policy{Duration(60 * Day), Duration(90 * Day)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cfg.SecretPolicy(tt.name); got != tt.want {
				t.Errorf("SecretPolicy(%s) = %+v, want %+v", tt.name, got, tt.want)
			}
		})
	}
}
