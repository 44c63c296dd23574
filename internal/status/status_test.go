package status

import (
	"slices"
	"strings"
	"testing"
	"time"
)

const day = 24 * time.Hour

func TestEvaluate(t *testing.T) {
	policy := Policy{WarnAfter: 90 * day, MaxAge: 180 * day}
	tests := []struct {
		name string
		age  time.Duration
		p    Policy
		want Verdict
	}{
		{"fresh", 0, policy, OK},
		{"just before warn", 90*day - time.Nanosecond, policy, OK},
		{"at warn", 90 * day, policy, Warn},
		{"between", 120 * day, policy, Warn},
		{"just before max", 180*day - time.Nanosecond, policy, Warn},
		{"at max", 180 * day, policy, Expired},
		{"past max", 400 * day, policy, Expired},
		{"no policy", 10000 * day, Policy{}, OK},
		{"max only, below", 29 * day, Policy{MaxAge: 30 * day}, OK},
		{"max only, at", 30 * day, Policy{MaxAge: 30 * day}, Expired},
		{"warn only, past", 1000 * day, Policy{WarnAfter: 30 * day}, Warn},
		{"warn equals max", 30 * day, Policy{WarnAfter: 30 * day, MaxAge: 30 * day}, Expired},
		{"negative age", -time.Hour, policy, OK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Evaluate(tt.age, tt.p); got != tt.want {
				t.Errorf("Evaluate(%v, %+v) = %v, want %v", tt.age, tt.p, got, tt.want)
			}
		})
	}
}

func TestRows(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	vars := []Var{
		{Name: "STRIPE_KEY", Since: now.Add(-100 * day), Provider: "stripe"},
		{Name: "API_TOKEN", Since: now.Add(-10 * day)},
		{Name: "DATABASE_URL", Since: now.Add(-31 * day), Provider: "postgres", Exposed: true},
		{Name: "CLOCK_SKEW", Since: now.Add(time.Hour)},
	}
	input := slices.Clone(vars)
	policies := map[string]Policy{"DATABASE_URL": {WarnAfter: 15 * day, MaxAge: 30 * day}}
	policyFor := func(name string) Policy {
		if p, ok := policies[name]; ok {
			return p
		}
		return Policy{WarnAfter: 90 * day, MaxAge: 180 * day}
	}
	rows := Rows(now, vars, policyFor)
	if !slices.Equal(vars, input) {
		t.Error("Rows modified its input")
	}

	want := []struct {
		name    string
		age     time.Duration
		verdict Verdict
	}{
		{"API_TOKEN", 10 * day, OK},
		{"CLOCK_SKEW", 0, OK},
		{"DATABASE_URL", 31 * day, Expired},
		{"STRIPE_KEY", 100 * day, Warn},
	}
	if len(rows) != len(want) {
		t.Fatalf("got %d rows, want %d", len(rows), len(want))
	}
	for i, w := range want {
		t.Run(w.name, func(t *testing.T) {
			r := rows[i]
			if r.Name != w.name || r.Age != w.age || r.Verdict != w.verdict {
				t.Errorf("row %d = {%s %v %v}, want {%s %v %v}", i, r.Name, r.Age, r.Verdict, w.name, w.age, w.verdict)
			}
			if r.Policy != policyFor(w.name) {
				t.Errorf("row %d policy = %+v, want %+v", i, r.Policy, policyFor(w.name))
			}
		})
	}
	if !rows[2].Exposed || rows[2].Provider != "postgres" {
		t.Errorf("metadata not carried: %+v", rows[2].Var)
	}
	if got := Worst(rows); got != Expired {
		t.Errorf("Worst = %v, want expired", got)
	}
}

func TestRowsEmpty(t *testing.T) {
	rows := Rows(time.Now(), nil, func(string) Policy { return Policy{} })
	if len(rows) != 0 {
		t.Errorf("Rows(nil) = %v, want empty", rows)
	}
	if got := Worst(rows); got != OK {
		t.Errorf("Worst(none) = %v, want ok", got)
	}
}

func TestWorst(t *testing.T) {
	tests := []struct {
		name     string
		verdicts []Verdict
		want     Verdict
	}{
		{"none", nil, OK},
		{"all ok", []Verdict{OK, OK}, OK},
		{"one warn", []Verdict{OK, Warn, OK}, Warn},
		{"expired wins", []Verdict{Warn, Expired, OK}, Expired},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rows []Row
			for _, v := range tt.verdicts {
				rows = append(rows, Row{Verdict: v})
			}
			if got := Worst(rows); got != tt.want {
				t.Errorf("Worst = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestParseLevel(t *testing.T) {
	tests := []struct {
		in      string
		want    Verdict
		wantErr bool
	}{
		{"warn", Warn, false},
		{"expired", Expired, false},
		{"WARN", Warn, false},
		{" expired ", Expired, false},
		{"ok", OK, true},
		{"", OK, true},
		{"error", OK, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseLevel(tt.in)
			if tt.wantErr {
				if err == nil {
					t.Fatalf("ParseLevel(%q) = %v, want error", tt.in, got)
				}
				for _, s := range []string{"warn", "expired", `"` + tt.in + `"`} {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %s", err, s)
					}
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("ParseLevel(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func TestVerdictStrings(t *testing.T) {
	tests := []struct {
		v           Verdict
		str, symbol string
	}{
		{OK, "ok", "✓"},
		{Warn, "warn", "⚠"},
		{Expired, "expired", "✗"},
		{Verdict(7), "Verdict(7)", "?"},
	}
	for _, tt := range tests {
		t.Run(tt.str, func(t *testing.T) {
			if got := tt.v.String(); got != tt.str {
				t.Errorf("String = %q, want %q", got, tt.str)
			}
			if got := tt.v.Symbol(); got != tt.symbol {
				t.Errorf("Symbol = %q, want %q", got, tt.symbol)
			}
			text, _ := tt.v.MarshalText()
			if string(text) != tt.str {
				t.Errorf("MarshalText = %q, want %q", text, tt.str)
			}
		})
	}
	if !(OK < Warn && Warn < Expired) {
		t.Error("verdicts are not ordered best to worst")
	}
}

func TestHumanAge(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{-time.Second, "0s"},
		{0, "0s"},
		{999 * time.Millisecond, "0s"},
		{45 * time.Second, "45s"},
		{59*time.Second + 999*time.Millisecond, "59s"},
		{time.Minute, "1m"},
		{12*time.Minute + 30*time.Second, "12m"},
		{59 * time.Minute, "59m"},
		{time.Hour, "1h"},
		{5*time.Hour + 59*time.Minute, "5h"},
		{23 * time.Hour, "23h"},
		{day, "1d"},
		{3*day + 23*time.Hour, "3d"},
		{412 * day, "412d"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := HumanAge(tt.d); got != tt.want {
				t.Errorf("HumanAge(%v) = %q, want %q", tt.d, got, tt.want)
			}
		})
	}
}
