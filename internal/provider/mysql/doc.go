// Package mysql implements the mysql provider: passwords of MySQL (8.0.14
// or newer) and MariaDB (10.4 or newer) accounts, rotated without a moment
// in which the application cannot log in.
//
// # Settings
//
//	provider: mysql
//	with:
//	  admin_url: "${MYSQL_ADMIN_URL}"  # required: an account that may ALTER USER (URL or DSN)
//	  host: "%"                        # the accounts' host part; default '%'
//	  users: [app_blue, app_green]     # optional: two accounts that alternate
//	  length: 32                       # password entropy, as for the random provider
//	  encoding: base64url              # hex | base64url | alnum
//	  test: { read: "SELECT 1", write: "INSERT INTO t …" }  # optional probes
//
// The variable holds a mysql:// URL (mysql://user:pass@host:port/db?params,
// user and password percent-encoded) or a go-sql-driver DSN
// (user:pass@tcp(host:port)/db?params). Rotation keeps its format and text
// and changes only the user and password.
//
// # Rotation
//
// Without users, one account has two passwords during the window. MariaDB:
// ALTER USER u@h IDENTIFIED VIA mysql_native_password USING '<old hash>' OR
// mysql_native_password USING '<new hash>'; revoke restates the account
// without the revoked password's hash. Hashes are computed here (see
// passwordHash), so no plaintext password travels in a MariaDB statement.
// MySQL: ALTER USER …
// IDENTIFIED BY '<new>' RETAIN CURRENT PASSWORD; revoke is DISCARD OLD
// PASSWORD. The server cannot say which password a session used, so this
// mode has no drain signal (the provider is not a provider.UsageReporter).
//
// With users (any password plugin: mysql_native_password or ed25519 on
// MariaDB), the standby account gets the new password (and is unlocked),
// the variable switches to it, and revoke locks the previous account with
// a random password (ACCOUNT LOCK). Sessions are counted and ended per
// account (Alternating implements provider.UsageReporter and
// provider.Terminator).
//
// slickenv generates the password itself in Create (the provider is not a
// provider.Generator: the new value is a whole connection string built from
// the current one); the engine journals it in the same step. A repeated
// Create replaces whatever an interrupted earlier one did, so no password
// is ever orphaned. Revoke never removes the last password of an account.
//
// Errors never contain a password: driver errors are redacted and syntax
// errors, which quote statements, lose their text. See
// docs/providers/mysql.md for the exact SQL and the privileges needed.
package mysql
