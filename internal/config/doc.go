// Package config reads .slickenv.yaml, the project file: which project this is,
// where its store lives, how old its secrets may get and how each one is
// rotated. The file is committable: it names secrets and may refer to them,
// but never holds a value.
//
// Find locates the file by walking up from a directory, Load reads it, Parse
// validates it, and Config.SecretPolicy answers "what policy applies to this
// variable". Parsing is strict and reports every problem with file, line and
// setting: a typo is an error, not a silently ignored key.
//
// # File format
//
// Top-level keys (only project is required):
//
//	project: shop                 # [a-z0-9][a-z0-9._-]{0,63}; names the local store file
//	default_env: development      # [a-z0-9][a-z0-9_-]*; default "development"
//	store: /path/or/https://...   # default: the local database
//	actor: alice                  # name recorded in audit entries
//	policy: { warn_after: 90d, max_age: 180d }
//	secrets: { NAME: {...}, ... } # per-variable settings, below
//	scan: { ignore_paths: ["testdata/**"] }
//
// A key set to null (or left empty) is the same as a key left out. Anchors and
// aliases work; merge keys (<<) do not. The file holds a single YAML document.
//
// # Secrets
//
// Each key of secrets is a variable name ([A-Za-z0-9_.-]+). Every field is
// optional:
//
//	provider: postgres            # provider kind; none: rotated by hand
//	with: {...}                   # provider settings, kept raw (Secret.With); needs provider
//	max_age: 30d                  # override the project policy for this variable
//	warn_after: 20d
//	targets: [...]                # where a new value goes, in order
//	verify: {...}                 # how a new value is proven before the old one is revoked
//
// Strings in with may refer to other variables of the same environment as
// ${NAME}; see ExpandRefs. Parse checks their syntax, the caller resolves them.
//
// # Targets
//
// Each target has exactly one of:
//
//	dotenv: /srv/shop/.env                          # rewrite that key in a .env file
//	command: [systemctl, reload, shop]             # run a command (a list: no shell)
//	signal: { pidfile: /run/shop.pid, signal: HUP } # HUP, TERM, INT, USR1, USR2, QUIT; SIG prefix and case optional
//
// # Verification
//
//	verify:
//	  window: 60s                 # default 60s; 0s: no window
//	  approve: manual             # auto (default) or manual: wait for `rotate --approve`
//	  checks:                     # each holds for the whole window; exactly one kind per check
//	    - http: { url: "http://127.0.0.1:8080/healthz", every: 1s, min_success: 1.0 }
//	    - command: [./scripts/smoke.sh]
//	  drain: { timeout: 5m }      # wait for the old credential to go idle; timeout default 5m
//
// every defaults to 1s and must be positive; min_success is a fraction in
// [0, 1], default 1.0 (every request must succeed).
//
// # Durations
//
// Durations are written as numbers with units, largest first by convention:
// 90d, 1w, 1d12h, 1.5h, 30m, 45s, 500ms. A day is 24 hours, a week 7 days.
// See Duration.
//
// # Policy
//
// warn_after and max_age bound a secret's age; a secret's own values override
// the project's, and missing values are derived as Config.SecretPolicy
// documents. warn_after may not exceed max_age, at either level or in the
// combination that applies to a secret, and neither may be zero.
package config
