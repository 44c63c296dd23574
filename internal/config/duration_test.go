package config

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
	}{
		{"0", 0},
		{"-0", 0},
		{"0s", 0},
		{"90d", 90 * Day},
		{"12h", 12 * time.Hour},
		{"1w", Week},
		{"30m", 30 * time.Minute},
		{"45s", 45 * time.Second},
		{"500ms", 500 * time.Millisecond},
		{"1d12h", 36 * time.Hour},
		{"1.5h", 90 * time.Minute},
		{".5d", 12 * time.Hour},
		{"1.d", Day},
		{"+2h", 2 * time.Hour},
		{"1h30m", 90 * time.Minute},
		{"2w3d", 17 * Day},
		{"12h1d", 36 * time.Hour},
		{"1us", time.Microsecond},
		{"1µs", time.Microsecond},
		{"7ns", 7},
		{"106751d23h47m16s854ms775us807ns", 1<<63 - 1},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if err != nil {
				t.Fatalf("ParseDuration(%q): %v", tt.in, err)
			}
			if got.Std() != tt.want {
				t.Errorf("ParseDuration(%q) = %v, want %v", tt.in, got.Std(), tt.want)
			}
		})
	}
}

func TestParseDurationErrors(t *testing.T) {
	tests := []struct {
		in     string
		reason string
	}{
		{"", "empty"},
		{"90", "missing unit"},
		{"5x", `unknown unit "x"`},
		{"1y", `unknown unit "y"`},
		{"-5m", "negative"},
		{"-1d12h", "negative"},
		{"-", "no number"},
		{"d", "expected a number"},
		{".d", "expected a number"},
		{"1d 2h", "unknown unit"},
		{" 1d", "expected a number"},
		{"1d-2h", "unknown unit"},
		{"15251w", "out of range"},
		{"106752d", "out of range"},
		{"9223372036854775808ns", "out of range"},
		{"99999999999999999999d", "out of range"},
		{"106751d23h47m16s854ms775us808ns", "out of range"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseDuration(tt.in)
			if err == nil {
				t.Fatalf("ParseDuration(%q) = %v, want error", tt.in, got)
			}
			msg := err.Error()
			for _, want := range []string{tt.reason, `"` + tt.in + `"`, "w, d, h, m, s, ms"} {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not contain %q", msg, want)
				}
			}
		})
	}
}

func TestDurationString(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{90 * Day, "90d"},
		{36 * time.Hour, "1d12h"},
		{Week, "7d"},
		{12 * time.Hour, "12h"},
		{90 * time.Minute, "1h30m"},
		{45 * time.Second, "45s"},
		{1500 * time.Millisecond, "1s500ms"},
		{Day + time.Second, "1d1s"},
		{time.Microsecond + 1, "1us1ns"},
		{1<<63 - 1, "106751d23h47m16s854ms775us807ns"},
		{-time.Hour, "-1h"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := Duration(tt.d).String(); got != tt.want {
				t.Errorf("Duration(%v).String() = %q, want %q", tt.d, got, tt.want)
			}
		})
	}
}

func TestDurationEncodings(t *testing.T) {
	var v struct {
		D Duration `yaml:"d" json:"d"`
	}
	if err := yaml.Unmarshal([]byte("d: 1d12h\n"), &v); err != nil {
		t.Fatalf("yaml: %v", err)
	}
	if v.D.Std() != 36*time.Hour {
		t.Errorf("yaml decoded %v", v.D)
	}
	out, err := yaml.Marshal(v)
	if err != nil || string(out) != "d: 1d12h\n" {
		t.Errorf("yaml.Marshal = %q, %v", out, err)
	}
	if err := yaml.Unmarshal([]byte("d: 90\n"), &v); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("yaml error for a bare number = %v, want one naming line 1", err)
	}
	if err := yaml.Unmarshal([]byte("d: [1d]\n"), &v); err == nil {
		t.Error("yaml accepted a list as a duration")
	}

	j, err := json.Marshal(v)
	if err != nil || string(j) != `{"d":"1d12h"}` {
		t.Errorf("json.Marshal = %s, %v", j, err)
	}
	if err := json.Unmarshal([]byte(`{"d":"2w"}`), &v); err != nil || v.D.Std() != 2*Week {
		t.Errorf("json.Unmarshal = %v, %v", v.D, err)
	}

	var flag Duration
	if err := flag.Set("60s"); err != nil || flag.Std() != time.Minute || flag.Type() != "duration" {
		t.Errorf("Set(60s) = %v, %v", flag, err)
	}
	if err := flag.Set("-1s"); err == nil {
		t.Error("Set(-1s) succeeded")
	}
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"90d", "1d12h", "1.5h", "0", "-0", "1w", "500ms", "1µs", ".5d", "106751d23h47m16s854ms775us807ns", "1e3h", "--1s", "1.h"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if !strings.Contains(err.Error(), "invalid duration") {
				t.Fatalf("error %q lacks context", err)
			}
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %d, negative", s, d)
		}
		again, err := ParseDuration(d.String())
		if err != nil {
			t.Fatalf("ParseDuration(%q) (String of %q): %v", d.String(), s, err)
		}
		if again != d {
			t.Fatalf("round trip of %q: %d → %q → %d", s, d, d.String(), again)
		}
	})
}
