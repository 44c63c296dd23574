package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

const exampleFile = `project: shop
default_env: development
store: https://slickenv.example.com
actor: alice
policy: { warn_after: 90d, max_age: 180d }
secrets:
  DATABASE_URL:
    provider: postgres
    with: { admin_url: "${PG_ADMIN_URL}", roles: [app_blue, app_green], port: 5432 }
    max_age: 30d
    warn_after: 20d
    targets:
      - dotenv: /srv/shop/.env
      - command: [systemctl, reload, shop]
      - signal: { pidfile: /run/shop.pid, signal: SIGhup }
    verify:
      window: 60s
      approve: manual
      checks:
        - http: { url: "http://127.0.0.1:8080/healthz", every: 2s, min_success: 0.99 }
        - command: [./scripts/smoke.sh, --fast]
      drain: { timeout: 5m }
  STRIPE_SECRET_KEY:
    max_age: 60d
scan:
  ignore_paths: ["testdata/**", "*.golden"]
`

func TestParseExample(t *testing.T) {
	cfg, err := Parse([]byte(exampleFile), "shop/.slickenv.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Project:    "shop",
		DefaultEnv: "development",
		Store:      "https://slickenv.example.com",
		Actor:      "alice",
		Policy:     Policy{WarnAfter: Duration(90 * Day), MaxAge: Duration(180 * Day)},
		Secrets: map[string]Secret{
			"DATABASE_URL": {
				Provider: "postgres",
				With: map[string]any{
					"admin_url": "${PG_ADMIN_URL}",
					"roles":     []any{"app_blue", "app_green"},
					"port":      5432,
				},
				MaxAge:    Duration(30 * Day),
				WarnAfter: Duration(20 * Day),
				Targets: []Target{
					{Dotenv: "/srv/shop/.env"},
					{Command: []string{"systemctl", "reload", "shop"}},
					{Signal: &SignalTarget{Pidfile: "/run/shop.pid", Signal: "HUP"}},
				},
				Verify: Verify{
					Window:  Duration(time.Minute),
					Approve: "manual",
					Checks: []Check{
						{HTTP: &HTTPCheck{URL: "http://127.0.0.1:8080/healthz", Every: Duration(2 * time.Second), MinSuccess: 0.99}},
						{Command: []string{"./scripts/smoke.sh", "--fast"}},
					},
					Drain: &Drain{Timeout: Duration(5 * time.Minute)},
				},
			},
			"STRIPE_SECRET_KEY": {
				MaxAge: Duration(60 * Day),
				Verify: Verify{Window: DefaultWindow},
			},
		},
		Scan: Scan{IgnorePaths: []string{"testdata/**", "*.golden"}},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Parse mismatch\ngot:  %#v\nwant: %#v", cfg, want)
	}
	if !cfg.Secrets["DATABASE_URL"].Verify.Manual() || cfg.Secrets["STRIPE_SECRET_KEY"].Verify.Manual() {
		t.Error("Verify.Manual wrong")
	}
	if got := cfg.SecretNames(); !reflect.DeepEqual(got, []string{"DATABASE_URL", "STRIPE_SECRET_KEY"}) {
		t.Errorf("SecretNames = %v", got)
	}
}

func TestParseValid(t *testing.T) {
	tests := []struct {
		name  string
		input string
		check func(t *testing.T, c *Config)
	}{
		{"minimal", "project: shop\n", func(t *testing.T, c *Config) {
			if c.Project != "shop" || c.DefaultEnv != DefaultEnv || c.Secrets != nil || c.Policy != (Policy{}) || c.Path != "" {
				t.Errorf("got %+v", c)
			}
		}},
		{"numeric project name", "project: 2024\n", func(t *testing.T, c *Config) {
			if c.Project != "2024" {
				t.Errorf("project = %q", c.Project)
			}
		}},
		{"nulls mean unset", "project: shop\ndefault_env:\nstore: ~\npolicy:\nsecrets:\n  API_KEY:\nscan: null\n", func(t *testing.T, c *Config) {
			if c.DefaultEnv != DefaultEnv || c.Store != "" || len(c.Secrets) != 1 {
				t.Errorf("got %+v", c)
			}
			if s := c.Secrets["API_KEY"]; s.Verify.Window != DefaultWindow || s.Targets != nil {
				t.Errorf("API_KEY = %+v", s)
			}
		}},
		{"defaults for checks and drain", `project: shop
secrets:
  K:
    provider: random
    verify:
      checks:
        - http: { url: "https://example.com/" }
      drain: {}
`, func(t *testing.T, c *Config) {
			v := c.Secrets["K"].Verify
			if v.Window != DefaultWindow || v.Drain == nil || v.Drain.Timeout != DefaultDrainTimeout {
				t.Errorf("verify = %+v", v)
			}
			if h := v.Checks[0].HTTP; h.Every != DefaultCheckEvery || h.MinSuccess != DefaultMinSuccess {
				t.Errorf("http check = %+v", h)
			}
		}},
		{"explicit zero window and min_success", `project: shop
secrets:
  K:
    verify:
      window: 0s
      checks:
        - http: { url: "http://localhost:1", min_success: 0 }
`, func(t *testing.T, c *Config) {
			v := c.Secrets["K"].Verify
			if v.Window != 0 || v.Checks[0].HTTP.MinSuccess != 0 || v.Drain != nil {
				t.Errorf("verify = %+v", v)
			}
		}},
		{"anchors and aliases", `project: shop
secrets:
  A: &a
    max_age: 30d
    targets: &targets
      - command: [deploy]
  B: *a
  C:
    targets: *targets
`, nil},
		{"signal names", `project: shop
secrets:
  K:
    targets:
      - signal: { pidfile: /p, signal: term }
      - signal: { pidfile: /p, signal: SIGUSR2 }
`, func(t *testing.T, c *Config) {
			ts := c.Secrets["K"].Targets
			if ts[0].Signal.Signal != "TERM" || ts[1].Signal.Signal != "USR2" {
				t.Errorf("signals = %s, %s", ts[0].Signal.Signal, ts[1].Signal.Signal)
			}
		}},
		{"escaped dollar in settings", "project: shop\nsecrets:\n  K:\n    provider: exec\n    with: { create: \"echo $$HOME ${A}\", price: \"$5\" }\n", nil},
		{"document marker and comments", "# top\n---\nproject: shop # inline\n", nil},
		{"plain path store", "project: shop\nstore: ./data/shop.db\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse([]byte(tt.input), "p.yaml")
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	const header = "project: shop\n"
	tests := []struct {
		name  string
		input string
		want  []string // substrings of the error; the first is always the location
	}{
		{"empty file", "", []string{"f.yaml: project is required"}},
		{"only comments", "# nothing\n", []string{"f.yaml: project is required"}},
		{"missing project", "default_env: dev\n", []string{"f.yaml:1: project is required"}},
		{"unknown top-level key", header + "polcy: {}\n", []string{"f.yaml:2: ", `unknown key "polcy"`, `did you mean "policy"`}},
		{"unknown key far off", header + "zzz: 1\n", []string{"f.yaml:2: ", `unknown key "zzz"`}},
		{"duplicate key", header + "actor: a\nactor: b\n", []string{"f.yaml:3: ", `duplicate key "actor" (first on line 2)`}},
		{"syntax error", "project: [shop\n", []string{"f.yaml:", "invalid YAML"}},
		{"tab indentation", "project: shop\nsecrets:\n\tK: {}\n", []string{"f.yaml:", "invalid YAML"}},
		{"two documents", header + "---\nproject: other\n", []string{"f.yaml:3: ", "second YAML document"}},
		{"top level list", "- project\n", []string{"f.yaml:1: ", "expected a mapping"}},
		{"project upper case", "project: Shop\n", []string{"f.yaml:1: project: ", `invalid name "Shop"`}},
		{"project too long", "project: " + strings.Repeat("a", 65) + "\n", []string{"f.yaml:1: project: ", "invalid name"}},
		{"project path", "project: ../etc\n", []string{"f.yaml:1: project: ", "invalid name"}},
		{"project mapping", "project: {a: b}\n", []string{"f.yaml:1: project: ", "expected a string"}},
		{"project empty string", "project: ''\n", []string{"f.yaml:1: project: ", `invalid name ""`}},
		{"env name", header + "default_env: Prod\n", []string{"f.yaml:2: default_env: ", `invalid environment name "Prod"`}},
		{"store scheme", header + "store: ftp://host/x\n", []string{"f.yaml:2: store: ", `unsupported URL scheme "ftp"`}},
		{"store no host", header + "store: https:///x\n", []string{"f.yaml:2: store: ", "no host"}},
		{"actor control", header + "actor: \"a\\nb\"\n", []string{"f.yaml:2: actor: ", "control characters"}},
		{"policy unknown key", header + "policy:\n  max_agee: 1d\n", []string{"f.yaml:3: policy: ", `unknown key "max_agee"`, `did you mean "max_age"`}},
		{"policy bad duration", header + "policy:\n  max_age: 90\n", []string{"f.yaml:3: policy.max_age: ", `invalid duration "90"`, "missing unit"}},
		{"policy warn above max", header + "policy: { warn_after: 200d, max_age: 180d }\n", []string{"f.yaml:2: policy.warn_after: ", "200d exceeds max_age (180d)"}},
		{"policy zero", header + "policy: { max_age: 0s }\n", []string{"f.yaml:2: policy.max_age: ", "greater than zero"}},
		{"policy negative", header + "policy: { max_age: -1d }\n", []string{"f.yaml:2: policy.max_age: ", "negative"}},
		{"policy not a mapping", header + "policy: 90d\n", []string{"f.yaml:2: policy: ", `expected a mapping, got "90d"`}},
		{"secrets list", header + "secrets: [A, B]\n", []string{"f.yaml:2: secrets: ", "expected a mapping, got a list"}},
		{"secret name", header + "secrets:\n  BAD NAME: {}\n", []string{"f.yaml:3: secrets: ", `invalid variable name "BAD NAME"`}},
		{"secret unknown key", header + "secrets:\n  K:\n    max_ag: 1d\n", []string{"f.yaml:4: secrets.K: ", `unknown key "max_ag"`, `did you mean "max_age"`}},
		{"secret warn above own max", header + "secrets:\n  K:\n    max_age: 10d\n    warn_after: 20d\n", []string{"f.yaml:5: secrets.K.warn_after: ", "20d exceeds max_age (10d)"}},
		{"secret warn above project max", header + "policy: { max_age: 30d }\nsecrets:\n  K:\n    warn_after: 40d\n", []string{"f.yaml:5: secrets.K.warn_after: ", "exceeds the project's max_age (30d)"}},
		{"secret warn above default max", header + "secrets:\n  K:\n    warn_after: 200d\n", []string{"f.yaml:4: secrets.K.warn_after: ", "exceeds the default max_age (180d)"}},
		{"provider name", header + "secrets:\n  K:\n    provider: Postgres!\n", []string{"f.yaml:4: secrets.K.provider: ", `invalid provider name "Postgres!"`}},
		{"with without provider", header + "secrets:\n  K:\n    with: { a: b }\n", []string{"f.yaml:4: secrets.K.with: ", "need a provider"}},
		{"with not a mapping", header + "secrets:\n  K:\n    provider: x\n    with: [a]\n", []string{"f.yaml:5: secrets.K.with: ", "expected a mapping"}},
		{"with bad reference", header + "secrets:\n  K:\n    provider: x\n    with:\n      nested:\n        - \"${A\"\n", []string{"f.yaml:7: secrets.K.with.nested[0]: ", "unterminated reference"}},
		{"with invalid reference name", header + "secrets:\n  K:\n    provider: x\n    with: { url: \"${A B}\" }\n", []string{"f.yaml:5: secrets.K.with.url: ", `invalid reference name "A B"`}},
		{"with duplicate key", header + "secrets:\n  K:\n    provider: x\n    with:\n      a: 1\n      a: 2\n", []string{"f.yaml:7: secrets.K.with: ", `mapping key "a" already defined at line 6`}},
		{"targets not a list", header + "secrets:\n  K:\n    targets: { dotenv: x }\n", []string{"f.yaml:4: secrets.K.targets: ", "expected a list"}},
		{"target two kinds", header + "secrets:\n  K:\n    targets:\n      - dotenv: .env\n        command: [x]\n", []string{"f.yaml:5: secrets.K.targets[0]: ", "exactly one of dotenv, command, signal", "got dotenv and command"}},
		{"target empty", header + "secrets:\n  K:\n    targets:\n      - {}\n", []string{"f.yaml:5: secrets.K.targets[0]: ", "empty target"}},
		{"target null", header + "secrets:\n  K:\n    targets:\n      -\n", []string{"f.yaml:5: secrets.K.targets[0]: ", "empty target"}},
		{"target unknown kind", header + "secrets:\n  K:\n    targets:\n      - http: x\n", []string{"f.yaml:5: secrets.K.targets[0]: ", `unknown key "http"`}},
		{"target dotenv empty", header + "secrets:\n  K:\n    targets:\n      - dotenv: \"\"\n", []string{"f.yaml:5: secrets.K.targets[0]: ", "dotenv is required"}},
		{"target command string", header + "secrets:\n  K:\n    targets:\n      - command: systemctl reload shop\n", []string{"f.yaml:5: secrets.K.targets[0].command: ", "list of arguments"}},
		{"target command empty", header + "secrets:\n  K:\n    targets:\n      - command: []\n", []string{"f.yaml:5: secrets.K.targets[0].command: ", "empty command"}},
		{"target command nested", header + "secrets:\n  K:\n    targets:\n      - command: [[a]]\n", []string{"f.yaml:5: secrets.K.targets[0].command[0]: ", "expected a string"}},
		{"target command empty program", header + "secrets:\n  K:\n    targets:\n      - command: [\"\", x]\n", []string{"f.yaml:5: secrets.K.targets[0].command: ", "empty program name"}},
		{"signal unknown", header + "secrets:\n  K:\n    targets:\n      - signal: { pidfile: /p, signal: KILL }\n", []string{"f.yaml:5: secrets.K.targets[0].signal.signal: ", `unsupported signal "KILL"`, "HUP, TERM, INT, USR1, USR2, QUIT"}},
		{"signal missing pidfile", header + "secrets:\n  K:\n    targets:\n      - signal: { signal: HUP }\n", []string{"f.yaml:5: secrets.K.targets[0].signal: ", "pidfile is required"}},
		{"signal missing name", header + "secrets:\n  K:\n    targets:\n      - signal:\n          pidfile: /p\n", []string{"f.yaml:6: secrets.K.targets[0].signal: ", "signal is required"}},
		{"verify unknown key", header + "secrets:\n  K:\n    verify:\n      windw: 1s\n", []string{"f.yaml:5: secrets.K.verify: ", `unknown key "windw"`, `did you mean "window"`}},
		{"verify approve", header + "secrets:\n  K:\n    verify: { approve: yes }\n", []string{"f.yaml:4: secrets.K.verify.approve: ", `invalid value "yes"`, "auto or manual"}},
		{"check two kinds", header + "secrets:\n  K:\n    verify:\n      checks:\n        - { http: { url: \"http://a\" }, command: [x] }\n", []string{"f.yaml:6: secrets.K.verify.checks[0]: ", "exactly one of http, command"}},
		{"check url scheme", header + "secrets:\n  K:\n    verify:\n      checks:\n        - http: { url: \"ftp://a\" }\n", []string{"f.yaml:6: secrets.K.verify.checks[0].http.url: ", "http:// or https://"}},
		{"check url missing", header + "secrets:\n  K:\n    verify:\n      checks:\n        - http: { every: 1s }\n", []string{"f.yaml:6: secrets.K.verify.checks[0].http: ", "url is required"}},
		{"check min_success above one", header + "secrets:\n  K:\n    verify:\n      checks:\n        - http: { url: \"http://a\", min_success: 1.5 }\n", []string{"f.yaml:6: secrets.K.verify.checks[0].http.min_success: ", "1.5 is out of range"}},
		{"check min_success negative", header + "secrets:\n  K:\n    verify:\n      checks:\n        - http: { url: \"http://a\", min_success: -0.1 }\n", []string{"f.yaml:6: ", "out of range"}},
		{"check min_success nan", header + "secrets:\n  K:\n    verify:\n      checks:\n        - http: { url: \"http://a\", min_success: NaN }\n", []string{"f.yaml:6: ", "out of range"}},
		{"check min_success word", header + "secrets:\n  K:\n    verify:\n      checks:\n        - http: { url: \"http://a\", min_success: all }\n", []string{"f.yaml:6: secrets.K.verify.checks[0].http.min_success: ", `expected a number, got "all"`}},
		{"check every zero", header + "secrets:\n  K:\n    verify:\n      checks:\n        - http: { url: \"http://a\", every: 0s }\n", []string{"f.yaml:6: secrets.K.verify.checks[0].http.every: ", "greater than zero"}},
		{"drain zero", header + "secrets:\n  K:\n    verify:\n      drain: { timeout: 0s }\n", []string{"f.yaml:5: secrets.K.verify.drain.timeout: ", "greater than zero"}},
		{"drain unknown key", header + "secrets:\n  K:\n    verify:\n      drain: { timout: 1m }\n", []string{"f.yaml:5: secrets.K.verify.drain: ", `unknown key "timout"`}},
		{"scan bad pattern", header + "scan:\n  ignore_paths: [\"[a\"]\n", []string{"f.yaml:3: scan.ignore_paths[0]: ", `invalid pattern "[a"`}},
		{"scan unknown key", header + "scan:\n  ignore: [x]\n", []string{"f.yaml:3: scan: ", `unknown key "ignore"`}},
		{"merge key", header + "secrets:\n  K:\n    <<: { max_age: 1d }\n", []string{"f.yaml:4: secrets.K: ", "merge keys"}},
		{"non-string key", header + "secrets:\n  K:\n    ? [a]\n    : 1\n", []string{"f.yaml:4: secrets.K: ", "keys must be plain strings"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.input), "f.yaml")
			if err == nil {
				t.Fatalf("Parse succeeded: %+v", cfg)
			}
			if cfg != nil {
				t.Error("Parse returned a config with an error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.want[0]) {
				t.Errorf("error %q does not start with %q", msg, tt.want[0])
			}
			for _, want := range tt.want[1:] {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not contain %q", msg, want)
				}
			}
			var pe *ParseError
			if !errors.As(err, &pe) || pe.File != "f.yaml" {
				t.Errorf("error %q is not a *ParseError for f.yaml", msg)
			}
		})
	}
}

func TestParseReportsEveryProblemInOrder(t *testing.T) {
	input := `polcy: {}
project: Shop
secrets:
  K:
    max_age: 1
    targets:
      - {}
`
	_, err := Parse([]byte(input), "f.yaml")
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{"f.yaml:1: ", "f.yaml:2: project: ", "f.yaml:5: secrets.K.max_age: ", "f.yaml:7: secrets.K.targets[0]: "}
	if len(lines) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(lines), len(want), err)
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("problem %d = %q, want prefix %q", i, lines[i], w)
		}
	}
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Line != 1 || pe.Key != "" {
		t.Errorf("first ParseError = %+v", pe)
	}
}

func TestParseDefaultFilename(t *testing.T) {
	_, err := Parse([]byte("project: X\n"), "")
	if err == nil || !strings.HasPrefix(err.Error(), FileName+":1:") {
		t.Errorf("error = %v, want it to name %s", err, FileName)
	}
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(exampleFile))
	f.Add([]byte("project: shop\n"))
	f.Add(Template("shop"))
	f.Add([]byte("project: shop\nsecrets:\n  A: &a\n    max_age: 1d\n  B: *a\n"))
	f.Add([]byte("a: &a [*a]\n"))
	f.Add([]byte("project: x\n---\n"))
	f.Add([]byte("project: shop\nsecrets:\n  K:\n    provider: p\n    with: {a: [\"${X}\", {b: \"$${Y\"}]}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "fuzz.yaml")
		if err != nil {
			if cfg != nil {
				t.Fatal("config returned with an error")
			}
			if !strings.HasPrefix(err.Error(), "fuzz.yaml") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if !ValidProjectName(cfg.Project) || !ValidEnvName(cfg.DefaultEnv) {
			t.Fatalf("invalid names accepted: %q %q", cfg.Project, cfg.DefaultEnv)
		}
		for name := range cfg.Secrets {
			p := cfg.SecretPolicy(name)
			if p.MaxAge > 0 && p.WarnAfter > p.MaxAge {
				t.Fatalf("%s: policy %+v has warn_after > max_age", name, p)
			}
			for _, tg := range cfg.Secrets[name].Targets {
				n := 0
				if tg.Dotenv != "" {
					n++
				}
				if tg.Command != nil {
					n++
				}
				if tg.Signal != nil {
					n++
				}
				if n != 1 {
					t.Fatalf("%s: target %+v has %d kinds", name, tg, n)
				}
			}
		}
	})
}

func TestParseBoundsReportedProblems(t *testing.T) {
	input := "project: shop\n" + strings.Repeat("bogus: 1\n", 31)
	_, err := Parse([]byte(input), "f.yaml")
	if err == nil {
		t.Fatal("Parse succeeded")
	}
	lines := strings.Split(err.Error(), "\n")
	if len(lines) != maxReported+1 || lines[maxReported] != "f.yaml: 11 more problems not shown" {
		t.Errorf("got %d lines, last %q", len(lines), lines[len(lines)-1])
	}
}
