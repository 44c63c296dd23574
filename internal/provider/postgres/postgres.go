package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/secret"
)

// Kind is the provider kind in .slickenv.yaml.
const Kind = "postgres"

// Metadata keys of a credential Create returns.
const (
	MetaRole         = "role"          // the login role of the new value
	MetaPreviousRole = "previous_role" // the role of the value it replaces
	MetaCreatedAt    = "created_at"    // RFC 3339, UTC
)

// defaultConnectTimeout bounds a connection attempt whose connection
// string sets no connect_timeout.
const defaultConnectTimeout = 10 * time.Second

// Provider is the postgres provider. It implements provider.Provider,
// provider.Detector, provider.UsageReporter and provider.Terminator. It
// holds no connection between calls and is safe for concurrent use.
type Provider struct {
	s settings
}

var (
	_ provider.Provider      = (*Provider)(nil)
	_ provider.Detector      = (*Provider)(nil)
	_ provider.UsageReporter = (*Provider)(nil)
	_ provider.Terminator    = (*Provider)(nil)
)

// New builds a postgres provider from its settings (see the package
// documentation). It does not connect. A missing, unknown or invalid
// setting is an error wrapping provider.ErrSettings that names the key and
// never quotes the admin URL. New is a provider.Factory.
func New(s provider.Settings) (provider.Provider, error) {
	st, err := parseSettings(s)
	if err != nil {
		return nil, err
	}
	return &Provider{s: st}, nil
}

// Kind returns "postgres".
func (p *Provider) Kind() string { return Kind }

// Detect reports whether v is a PostgreSQL URL (postgres:// or
// postgresql://). key=value strings are not detected: configure the
// provider for them.
func (p *Provider) Detect(v secret.Value) bool { return isURL(v.Reveal()) }

// Roles returns the two configured login roles.
func (p *Provider) Roles() [2]string { return p.s.roles }

// standby returns the configured role that is not current.
func (p *Provider) standby(current string) (string, error) {
	switch current {
	case p.s.roles[0]:
		return p.s.roles[1], nil
	case p.s.roles[1]:
		return p.s.roles[0], nil
	}
	return "", fmt.Errorf("the current value logs in as %q, which is not one of roles %q: %w", current, p.s.roles, ErrUnmanagedRole)
}

// credentialRole parses a credential's value and returns it with its role.
func (p *Provider) credentialRole(c provider.Credential) (*connString, string, error) {
	cs, err := parseConnString(c.Value.Reveal())
	if err != nil {
		return nil, "", err
	}
	if cs.user == "" {
		return nil, "", fmt.Errorf("the connection string names no user")
	}
	return cs, cs.user, nil
}

// Check verifies, without changing anything, that a rotation of current
// can proceed: current's role is one of the roles, the standby role exists
// (and belongs to the group, when one is set), and the admin connection may
// change roles. Create runs the same checks first; Check lets a dry run
// explain what is missing. Errors wrap ErrUnmanagedRole, ErrMissingRole,
// ErrPrivileges or ErrAuthentication where they apply; none quotes a
// password.
func (p *Provider) Check(ctx context.Context, current provider.Credential) error {
	_, role, err := p.credentialRole(current)
	if err != nil {
		return fmt.Errorf("postgres: current value: %w", err)
	}
	standby, err := p.standby(role)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	conn, err := p.admin(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return p.check(ctx, conn, standby)
}

// check is Check's server side.
func (p *Provider) check(ctx context.Context, conn *pgx.Conn, standby string) error {
	var super, createRole bool
	var self string
	err := conn.QueryRow(ctx, `SELECT current_user, rolsuper, rolcreaterole FROM pg_roles WHERE rolname = current_user`).Scan(&self, &super, &createRole)
	if err != nil {
		return fmt.Errorf("postgres: read the admin role: %w", p.scrub(err))
	}
	if !super && !createRole {
		return fmt.Errorf("postgres: admin role %q has neither CREATEROLE nor SUPERUSER: %w", self, ErrPrivileges)
	}
	var standbySuper bool
	err = conn.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = $1`, standby).Scan(&standbySuper)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("postgres: standby role %s is missing: run `slickenv provider setup postgres`: %w", standby, ErrMissingRole)
	}
	if err != nil {
		return fmt.Errorf("postgres: read role %s: %w", standby, p.scrub(err))
	}
	if standbySuper {
		return fmt.Errorf("postgres: standby role %s is a superuser: slickenv rotates application roles only: %w", standby, ErrUnmanagedRole)
	}
	if standby == self {
		return fmt.Errorf("postgres: standby role %s is the admin role itself: %w", standby, ErrUnmanagedRole)
	}
	if p.s.group != "" {
		var exists, member bool
		err = conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1),
			EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid JOIN pg_roles r ON r.oid = m.member
			        WHERE g.rolname = $1 AND r.rolname = $2)`, p.s.group, standby).Scan(&exists, &member)
		if err != nil {
			return fmt.Errorf("postgres: read group %s: %w", p.s.group, p.scrub(err))
		}
		if !exists {
			return fmt.Errorf("postgres: group role %s is missing: run `slickenv provider setup postgres`: %w", p.s.group, ErrMissingRole)
		}
		if !member {
			return fmt.Errorf("postgres: standby role %s is not a member of group %s: run `slickenv provider setup postgres`: %w", standby, p.s.group, ErrMissingRole)
		}
	}
	return nil
}

// Create sets a new password on the standby role (the configured role that
// the current value does not log in as), gives it LOGIN, and returns the
// current value with that role and password in place of its own: a URL
// stays a URL and a key=value string stays one, with every other part as
// written. The current role is not touched.
//
// Before changing anything Create runs Check; its errors (a missing standby
// role, missing privileges, a wrong admin password, an unreachable server)
// leave the server as it was. The change itself is one transaction.
//
// Create is idempotent per rotation: a repeated call sets another new
// password on the same standby role, which nothing uses yet, and returns
// it; the value of the earlier call stops working.
func (p *Provider) Create(ctx context.Context, req provider.CreateRequest) (provider.Credential, error) {
	cs, role, err := p.credentialRole(req.Current)
	if err != nil {
		return provider.Credential{}, fmt.Errorf("postgres: current value: %w", err)
	}
	standby, err := p.standby(role)
	if err != nil {
		return provider.Credential{}, fmt.Errorf("postgres: %w", err)
	}
	password, err := p.s.spec.Generate()
	if err != nil {
		return provider.Credential{}, fmt.Errorf("postgres: generate a password: %w", err)
	}
	conn, err := p.admin(ctx)
	if err != nil {
		return provider.Credential{}, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := p.check(ctx, conn, standby); err != nil {
		return provider.Credential{}, err
	}
	if err := setPassword(ctx, conn, standby, password.Reveal(), true); err != nil {
		return provider.Credential{}, fmt.Errorf("postgres: alter role %s: %w", standby, p.scrub(err, password.Reveal()))
	}
	return provider.Credential{
		Value: secret.New(cs.withCredentials(standby, password.Reveal())),
		Meta: map[string]string{
			MetaRole:         standby,
			MetaPreviousRole: role,
			MetaCreatedAt:    time.Now().UTC().Format(time.RFC3339),
		},
	}, nil
}

// setPassword runs ALTER ROLE role WITH [NO]LOGIN PASSWORD '<verifier>' in
// a transaction. The password travels as its SCRAM verifier, never in
// clear (see scramVerifier). ALTER ROLE takes no bind parameters, so the
// verifier (base64, '$' and ':' only) and the quoted identifier are
// spliced in.
func setPassword(ctx context.Context, conn *pgx.Conn, role, password string, login bool) error {
	verifier, err := scramVerifier(password)
	if err != nil {
		return err
	}
	mode := "NOLOGIN"
	if login {
		mode = "LOGIN"
	}
	stmt := "ALTER ROLE " + pgx.Identifier{role}.Sanitize() + " WITH " + mode + " PASSWORD " + quoteLiteral(verifier)
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, stmt)
		return err
	})
}

// quoteLiteral quotes s as an SQL string literal whatever
// standard_conforming_strings says: an E'…' literal with every backslash and
// quote doubled.
func quoteLiteral(s string) string {
	s = strings.ReplaceAll(s, `\`, `\\`)
	s = strings.ReplaceAll(s, `'`, `''`)
	return "E'" + s + "'"
}

// Test connects with c the way the application does, runs the read probe
// (test.read, default SELECT 1) and reads its rows, then runs the write
// probe (test.write, default a temporary table and an insert) in a
// transaction that is always rolled back. It changes nothing. Its errors
// never quote c's value.
func (p *Provider) Test(ctx context.Context, c provider.Credential) error {
	_, role, err := p.credentialRole(c)
	if err != nil {
		return fmt.Errorf("postgres: test: %w", err)
	}
	conn, err := connect(ctx, c.Value)
	if err != nil {
		return fmt.Errorf("postgres: test: connect as %s: %w", role, scrubValue(err, c.Value))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	rows, err := conn.Query(ctx, p.s.read, pgx.QueryExecModeSimpleProtocol)
	if err == nil {
		for rows.Next() {
		}
		rows.Close()
		err = rows.Err()
	}
	if err != nil {
		return fmt.Errorf("postgres: test: read probe as %s: %w", role, scrubValue(err, c.Value))
	}
	tx, err := conn.Begin(ctx)
	if err == nil {
		_, err = tx.Exec(ctx, p.s.write, pgx.QueryExecModeSimpleProtocol)
		if rbErr := tx.Rollback(ctx); err == nil {
			err = rbErr
		}
	}
	if err != nil {
		return fmt.Errorf("postgres: test: write probe as %s (rolled back): %w", role, scrubValue(err, c.Value))
	}
	return nil
}

// Revoke makes c unusable: ALTER ROLE <c's role> WITH NOLOGIN and a random
// password nobody knows. Sessions already open stay open (drain them first,
// or Terminate them).
//
// Revoke never disables a role that holds another, newer credential: when
// c's password no longer logs in while its role still may (the role got a
// new password since c was made), c is already unusable and Revoke
// succeeds without changing anything. A role that is missing or already
// NOLOGIN is success too, so Revoke is idempotent. A role that is not one
// of the configured roles is refused (ErrUnmanagedRole).
func (p *Provider) Revoke(ctx context.Context, c provider.Credential) error {
	role, conn, live, err := p.liveRole(ctx, c, "revoke")
	if err != nil || !live {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	password, err := p.s.spec.Generate()
	if err != nil {
		return fmt.Errorf("postgres: revoke %s: generate a password: %w", role, err)
	}
	if err := setPassword(ctx, conn, role, password.Reveal(), false); err != nil {
		return fmt.Errorf("postgres: revoke %s: alter role: %w", role, p.scrub(err, password.Reveal(), c.Value.Reveal()))
	}
	return nil
}

// liveRole finds c's role and reports whether c still logs in. When live
// it returns an open admin connection the caller closes.
func (p *Provider) liveRole(ctx context.Context, c provider.Credential, what string) (string, *pgx.Conn, bool, error) {
	_, role, err := p.credentialRole(c)
	if err != nil {
		return "", nil, false, fmt.Errorf("postgres: %s: %w", what, err)
	}
	if !slices.Contains(p.s.roles[:], role) {
		return "", nil, false, fmt.Errorf("postgres: %s: refusing to touch role %q: not one of roles %q: %w", what, role, p.s.roles, ErrUnmanagedRole)
	}
	conn, err := p.admin(ctx)
	if err != nil {
		return "", nil, false, err
	}
	var canLogin bool
	err = conn.QueryRow(ctx, `SELECT rolcanlogin FROM pg_roles WHERE rolname = $1`, role).Scan(&canLogin)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && !canLogin) {
		conn.Close(context.WithoutCancel(ctx))
		return role, nil, false, nil // nothing can log in as role
	}
	if err != nil {
		conn.Close(context.WithoutCancel(ctx))
		return "", nil, false, fmt.Errorf("postgres: %s %s: read role: %w", what, role, p.scrub(err, c.Value.Reveal()))
	}
	probe, err := connect(ctx, c.Value)
	if err == nil {
		probe.Close(context.WithoutCancel(ctx))
		return role, conn, true, nil
	}
	conn.Close(context.WithoutCancel(ctx))
	if sqlState(err) == "28P01" {
		// Wrong password for a role that may log in: the role holds a
		// newer credential, and c is already unusable.
		return role, nil, false, nil
	}
	return "", nil, false, fmt.Errorf("postgres: %s %s: cannot tell whether the credential still logs in: %w", what, role, scrubValue(err, c.Value))
}

// InUse returns how many server sessions (pg_stat_activity rows, every
// database) are logged in as c's role, the admin's own session excluded.
// It changes nothing.
func (p *Provider) InUse(ctx context.Context, c provider.Credential) (int, error) {
	_, role, err := p.credentialRole(c)
	if err != nil {
		return 0, fmt.Errorf("postgres: in use: %w", err)
	}
	conn, err := p.admin(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var n int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid()`, role).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: in use %s: %w", role, p.scrub(err, c.Value.Reveal()))
	}
	return n, nil
}

// Terminate ends every session logged in as c's role (pg_terminate_backend)
// and returns how many it ended. Like Revoke it refuses a role that is not
// configured, and leaves alone a role that holds a newer credential than c
// (returning 0). The admin needs pg_signal_backend (or SUPERUSER).
func (p *Provider) Terminate(ctx context.Context, c provider.Credential) (int, error) {
	_, role, err := p.credentialRole(c)
	if err != nil {
		return 0, fmt.Errorf("postgres: terminate: %w", err)
	}
	if !slices.Contains(p.s.roles[:], role) {
		return 0, fmt.Errorf("postgres: terminate: refusing to touch role %q: not one of roles %q: %w", role, p.s.roles, ErrUnmanagedRole)
	}
	conn, err := p.admin(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var canLogin bool
	err = conn.QueryRow(ctx, `SELECT rolcanlogin FROM pg_roles WHERE rolname = $1`, role).Scan(&canLogin)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("postgres: terminate %s: read role: %w", role, p.scrub(err, c.Value.Reveal()))
	}
	probePID := uint32(0)
	if canLogin {
		// The role may still log in: end its sessions only if they belong
		// to c, that is if c's password is still the role's.
		probe, err := connect(ctx, c.Value)
		if sqlState(err) == "28P01" {
			return 0, nil
		}
		if err != nil {
			return 0, fmt.Errorf("postgres: terminate %s: cannot tell whether the credential still logs in: %w", role, scrubValue(err, c.Value))
		}
		// The probe's backend may outlive Close for a moment: not a session
		// to count.
		probePID = probe.PgConn().PID()
		probe.Close(context.WithoutCancel(ctx))
	}
	var n int
	err = conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))
		FROM pg_stat_activity WHERE usename = $1 AND pid <> pg_backend_pid() AND pid <> $2`, role, int64(probePID)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("postgres: terminate sessions of %s: %w", role, p.scrub(err, c.Value.Reveal()))
	}
	return n, nil
}

// admin opens the admin connection.
func (p *Provider) admin(ctx context.Context) (*pgx.Conn, error) {
	conn, err := connect(ctx, p.s.adminURL)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect with admin_url: %w", scrubValue(err, p.s.adminURL))
	}
	return conn, nil
}

// scrub removes the admin URL's secrets and extra from err.
func (p *Provider) scrub(err error, extra ...string) error {
	return scrubValue(err, p.s.adminURL, extra...)
}

// scrubValue removes a connection string's password (and the string
// itself) and extra from err.
func scrubValue(err error, connStr secret.Value, extra ...string) error {
	secrets := append([]string{connStr.Reveal()}, extra...)
	if cs, perr := parseConnString(connStr.Reveal()); perr == nil {
		secrets = append(secrets, cs.pass)
	}
	return scrub(err, secrets...)
}

// connect opens one connection with connStr (URL or key=value), with a
// default connect timeout.
func connect(ctx context.Context, connStr secret.Value) (*pgx.Conn, error) {
	cfg, err := pgx.ParseConfig(connStr.Reveal())
	if err != nil {
		// pgx redacts passwords in its parse errors; say less anyway.
		return nil, errConnString
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = defaultConnectTimeout
	}
	return pgx.ConnectConfig(ctx, cfg)
}
