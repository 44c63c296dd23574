// Package postgres implements the postgres provider: rotation of a
// PostgreSQL connection string (a URL or a libpq key=value string) by two
// login roles that take turns.
//
// # Settings
//
//	provider: postgres
//	with:
//	  admin_url: "${PG_ADMIN_URL}"      # required: a role with CREATEROLE (or SUPERUSER)
//	  roles: [app_blue, app_green]      # required: exactly two login roles
//	  group: app                        # optional: the group role both belong to
//	  length: 32                        # password: bytes of entropy (see package random); default 32
//	  encoding: base64url               # password: hex | base64url | alnum; default base64url
//	  test:                             # optional probes run by Test as the new role
//	    read: SELECT count(*) FROM orders
//	    write: INSERT INTO orders_probe VALUES (1)
//
// # Rotation
//
// Both roles are members of the application's group role, which holds
// every privilege, so either role can do what the application does. The
// variable logs in as one of them; the other is the standby, kept NOLOGIN
// between rotations. Create gives the standby LOGIN and a new password and
// returns the variable's value with only the user and password replaced (a
// URL stays a URL, a key=value string stays one). Both roles work during the
// verification window. Revoke of the old credential, after drain, sets its
// role NOLOGIN with a random password nobody knows. The next rotation goes
// the other way.
//
// Passwords reach the server as SCRAM-SHA-256 verifiers, never in clear,
// so they cannot appear in the server's statement log. Errors never contain
// a password: driver errors are scrubbed and do not unwrap to the driver
// error (they unwrap to this package's sentinels and context errors).
//
// The provider is not a provider.Generator: the new value depends on the
// current one (which role is standby, which host and options), which
// Generate cannot see. Create generates the password itself; the engine
// journals the value Create returns. A Create repeated after a crash sets
// yet another password on the same standby role, which nothing uses yet,
// so nothing is orphaned.
//
// Setup creates the group and the two roles. See docs/providers/postgres.md
// for the SQL each step runs and the privileges the admin needs.
package postgres
