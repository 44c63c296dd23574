// Package exec implements the exec provider: rotation by the user's own
// scripts, for credentials no built-in provider manages.
//
// # Settings
//
//	provider: exec
//	with:
//	  create: [./scripts/rotate.sh, create]   # argv, required
//	  test:   [./scripts/rotate.sh, test]     # argv, optional
//	  revoke: [./scripts/rotate.sh, revoke]   # argv, optional
//	  generate: { length: 32, encoding: base64url, prefix: "" }  # optional
//	  timeout: 30s          # per command; default 60s
//	  dir: scripts          # working directory; default: the project directory
//	  env:                  # extra environment variables, optional
//	    ADMIN_TOKEN: "${ADMIN_TOKEN}"
//
// Each command is an argv list, run directly (no shell). A relative program
// path with a slash (./scripts/rotate.sh) and a relative dir resolve against
// the working directory, which is dir, else the directory of .slickenv.yaml
// (when the engine provides it), else slickenv's own; a bare program name is
// looked up in PATH.
//
// generate takes the keys of the random provider (length, encoding, prefix;
// `generate: {}` for the defaults): slickenv generates the new value and
// journals it before create runs, and create installs it at the source.
// Without generate, create makes the value and prints it.
//
// Values never appear in argv, which every user of the machine can read in
// /proc. Other secrets a script needs (an admin token) belong in env, with
// a ${NAME} reference, never in the argv lists.
//
// # Script contract
//
// Environment: slickenv's own environment, plus the env setting, plus:
//
//	SLICKENV_ACTION       create, test or revoke
//	SLICKENV_ROTATION_ID  the rotation id: stable across retries and resumes
//	SLICKENV_ENV          the environment name (production)
//	SLICKENV_NAME         the variable name (DATABASE_URL)
//	SLICKENV_NEW_VALUE    create with generate: the generated value; test: the value under test
//	SLICKENV_OLD_VALUE    create: the value in use now; revoke: the value being revoked
//	SLICKENV_META         the credential's metadata as a JSON object ({} when none)
//	SLICKENV_META_<KEY>   each metadata entry; KEY is the key upper-cased, with
//	                      every character outside [A-Z0-9_] replaced by '_'
//
// The three identifying variables are always set, possibly empty when the
// caller did not say. SLICKENV_NEW_VALUE and SLICKENV_OLD_VALUE are set only
// for the actions listed. Variables with these names inherited from slickenv's
// own environment are removed. The metadata is the current credential's for
// create, and that of the credential under test or being revoked otherwise.
//
// Stdin carries the value the action is about, exactly, with no trailing
// newline: create with generate, the generated value; create without it,
// nothing (immediate end of file); test, the value under test; revoke, the
// value being revoked. Read it with value=$(cat), or with
// IFS= read -r value || true (read reports end of file without a newline as
// a failure).
//
// Create's stdout:
//   - without generate: the new value alone, on one line (one trailing "\n"
//     or "\r\n" is removed; nothing else is trimmed), or a JSON object
//     {"value": "…", "meta": {"key": "value"}}. Output that starts with "{"
//     (after white space) is always read as JSON; a value that is itself JSON
//     must be wrapped as {"value": "…"}. A value over several lines must use
//     the JSON form. The value must differ from the current one.
//   - with generate: nothing, or {"meta": {…}}.
//
// Metadata is for non-secret facts the later steps need (a key id, a user
// name): it is stored in the clear and shown to later commands. Progress and
// diagnostics go to stderr, never stdout. Stdout is limited to 1 MiB.
//
// Test and revoke have no required output. An absent test succeeds (the
// configured verification checks remain); an absent revoke succeeds (revoke
// nothing at the source).
//
// Exit status 0 is success. Any other status fails the step: the error names
// the program, the status and the last 20 lines of stderr, in which the old
// and new values, the env setting's values and create's stdout lines (those
// two of 8 bytes or more) are replaced with **redacted** (scripts may echo
// them by accident). A command
// that runs past timeout, or whose rotation is cancelled, is killed with
// its whole process group (SIGKILL); so is anything a command leaves
// running in its process group when it exits.
//
// # Idempotence
//
// slickenv may run any command again for the same SLICKENV_ROTATION_ID after a
// crash or a retry, so every script must be idempotent:
//   - create, run again for a rotation id, either returns the credential it
//     made the first time (adopt it), or replaces that one: a credential it
//     made for the rotation id and did not return would be orphaned. Tag what
//     you create with SLICKENV_ROTATION_ID so you can find it.
//   - revoke of a credential that is already revoked, or never existed, must
//     succeed (exit 0).
//   - test must not change anything.
//
// Create must leave the current credential valid: it is revoked only after
// the new one has passed verification, and on rollback the new one is
// revoked instead.
package exec
