package mysql

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/secret"
)

// Kind is the provider kind in .slickenv.yaml.
const Kind = "mysql"

// Meta keys of the credentials Create returns. Meta is stored in the clear:
// it never holds a password.
const (
	metaUser     = "user"     // the account the value logs in as
	metaRotation = "rotation" // the rotation that created the value
)

// Provider is the mysql provider in dual-password mode (one account, two
// passwords during the window). It implements provider.Provider and
// provider.Detector, but not provider.UsageReporter: the server cannot tell
// which password a session logged in with. It is safe for concurrent use.
type Provider struct {
	s settings
}

// Alternating is the mysql provider with the users setting: two accounts
// take turns. On top of Provider it reports and ends the sessions of the
// previous account (provider.UsageReporter, provider.Terminator).
type Alternating struct {
	*Provider
}

var (
	_ provider.Provider      = (*Provider)(nil)
	_ provider.Detector      = (*Provider)(nil)
	_ provider.Provider      = (*Alternating)(nil)
	_ provider.UsageReporter = (*Alternating)(nil)
	_ provider.Terminator    = (*Alternating)(nil)
)

// New builds a mysql provider from its settings (see the package
// documentation): a *Provider, or an *Alternating when users is set.
// Unknown keys and invalid values are errors wrapping provider.ErrSettings
// that name the key and never quote admin_url. New is a provider.Factory;
// it does not connect.
func New(s provider.Settings) (provider.Provider, error) {
	st, err := parseSettings(s)
	if err != nil {
		return nil, err
	}
	p := &Provider{s: st}
	if st.users != nil {
		return &Alternating{p}, nil
	}
	return p, nil
}

// Kind returns "mysql".
func (p *Provider) Kind() string { return Kind }

// Detect reports whether v is a mysql:// (or mariadb://) URL or a
// go-sql-driver DSN over TCP.
func (p *Provider) Detect(v secret.Value) bool {
	s := v.Reveal()
	if isURL(s) {
		return true
	}
	c, err := parseDSN(s)
	return err == nil && c.cfg.Net == "tcp"
}

// Create gives the account a new generated password while the current one
// keeps working, and returns the variable's value with the new password
// (and, with users, the standby account) in the current value's format.
// Every check happens before the first ALTER USER, and the current
// password works after each statement. Errors wrap ErrAccessDenied,
// ErrPrivileges, ErrNoUser, ErrMismatch or ErrUnsupported where they
// apply. Calling Create again for the same rotation replaces what an
// earlier call made (its password was never journaled, so nothing uses
// it): nothing is ever orphaned, but the value differs per call.
func (p *Provider) Create(ctx context.Context, req provider.CreateRequest) (provider.Credential, error) {
	cur, err := parseValue(req.Current.Value.Reveal())
	if err != nil {
		return provider.Credential{}, fmt.Errorf("mysql: create: the current value of %s: %w", req.Name, err)
	}
	pw, err := p.s.spec.Generate()
	if err != nil {
		return provider.Credential{}, fmt.Errorf("mysql: create: %w", err)
	}
	newPassword := pw.Reveal()
	user := cur.user
	if p.s.users != nil {
		if user, err = p.standby(cur.user, req.Name); err != nil {
			return provider.Credential{}, fmt.Errorf("mysql: create: %w", err)
		}
	}
	value, err := cur.withLogin(user, newPassword)
	if err != nil {
		return provider.Credential{}, fmt.Errorf("mysql: create: %w", err)
	}
	s, err := openSession(ctx, p.s.admin)
	if err != nil {
		return provider.Credential{}, fmt.Errorf("mysql: create: %w", err)
	}
	defer s.close()
	if p.s.users != nil {
		err = p.setStandby(ctx, s, user, newPassword)
	} else {
		err = p.addPassword(ctx, s, cur, newPassword)
	}
	if err != nil {
		return provider.Credential{}, fmt.Errorf("mysql: create: %w", err)
	}
	return provider.Credential{Value: secret.New(value), Meta: map[string]string{metaUser: user, metaRotation: req.RotationID}}, nil
}

// standby returns the user of the users pair that is not current.
func (p *Provider) standby(current, name string) (string, error) {
	switch current {
	case p.s.users[0]:
		return p.s.users[1], nil
	case p.s.users[1]:
		return p.s.users[0], nil
	}
	return "", fmt.Errorf("%w: %s logs in as %q, which is not one of users %q", provider.ErrSettings, name, current, p.s.users)
}

// addPassword gives cur's account newPassword as a second password.
func (p *Provider) addPassword(ctx context.Context, s *session, cur connValue, newPassword string) error {
	a, err := s.readAccount(ctx, cur.user, p.s.host)
	if err != nil {
		return err
	}
	switch s.kind {
	case kindMariaDB:
		if err := checkPasswordPlugins(a); err != nil {
			return err
		}
		idx, err := matching(a, cur.password)
		if err != nil {
			return err
		}
		if len(idx) == 0 {
			return fmt.Errorf("%w: the password in the current value does not open %s (nothing changed)", ErrMismatch, a)
		}
		old := a.entries[idx[0]]
		if old.plugin != "mysql_native_password" {
			// Checked on MariaDB 10.11: with two ed25519 alternatives the
			// server's second authentication round breaks go-sql-driver
			// clients (slickenv's Test among them) logging in with the second.
			return fmt.Errorf("%w: %s logs in with %s; two %s passwords on one account break some clients: set users: [a, b] to alternate accounts", ErrUnsupported, a, old.plugin, old.plugin)
		}
		added, err := newAlternative(old.plugin, newPassword)
		if err != nil {
			return err
		}
		// Restating exactly {old, new} also drops a password an interrupted
		// earlier attempt may have added.
		if err := s.restate(ctx, a.user, a.host, []alternative{{plugin: old.plugin, hash: old.hash}, added}, ""); err != nil {
			return fmt.Errorf("give %s a second password: %w", a, err)
		}
		return nil
	default:
		ok, err := loginWorks(ctx, cur)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("%w: the password in the current value does not open %s (nothing changed)", ErrMismatch, a)
		}
		if a.secondary != "" {
			// The current password may be the retained one (an interrupted
			// earlier attempt): make it primary again first, so that
			// RETAIN CURRENT PASSWORD keeps it.
			if err := s.exec(ctx, "ALTER USER ?@? IDENTIFIED BY ?", []string{cur.password}, a.user, a.host, cur.password); err != nil {
				return fmt.Errorf("restate the current password of %s: %w", a, err)
			}
		}
		if err := s.exec(ctx, "ALTER USER ?@? IDENTIFIED BY ? RETAIN CURRENT PASSWORD", []string{newPassword}, a.user, a.host, newPassword); err != nil {
			return fmt.Errorf("add a password to %s: %w", a, err)
		}
		return nil
	}
}

// setStandby gives the standby account newPassword as its only password and
// unlocks it.
func (p *Provider) setStandby(ctx context.Context, s *session, user, newPassword string) error {
	a, err := s.readAccount(ctx, user, p.s.host)
	if err != nil {
		if errors.Is(err, ErrNoUser) {
			return fmt.Errorf("standby account: %w (create it with the same grants as the current one; see docs/providers/mysql.md)", err)
		}
		return err
	}
	if s.kind == kindMariaDB && !passwordPlugins[a.entries[0].plugin] {
		return fmt.Errorf("%w: standby %s logs in with %s, not a password", ErrUnsupported, a, a.entries[0].plugin)
	}
	return s.setOnlyPassword(ctx, a, newPassword, "ACCOUNT UNLOCK", "set the password of standby")
}

// setOnlyPassword makes password the account's only password (on MariaDB in
// the account's own plugin; on MySQL also discarding a retained password)
// and applies accountClause (ACCOUNT LOCK or ACCOUNT UNLOCK). what names the
// step in errors ("lock", "set the password of standby").
func (s *session) setOnlyPassword(ctx context.Context, a account, password, accountClause, what string) error {
	if s.kind == kindMariaDB {
		alt, err := newAlternative(a.entries[0].plugin, password)
		if err != nil {
			return err
		}
		if err := s.restate(ctx, a.user, a.host, []alternative{alt}, accountClause); err != nil {
			return fmt.Errorf("%s %s: %w", what, a, err)
		}
		return nil
	}
	if err := s.exec(ctx, "ALTER USER ?@? IDENTIFIED BY ? "+accountClause, []string{password}, a.user, a.host, password); err != nil {
		return fmt.Errorf("%s %s: %w", what, a, err)
	}
	if err := s.exec(ctx, "ALTER USER ?@? DISCARD OLD PASSWORD", nil, a.user, a.host); err != nil {
		return fmt.Errorf("discard the retained password of %s: %w", a, err)
	}
	return nil
}

// Revoke makes c's password stop working. One account, two passwords: it
// removes c's password and keeps the other (MariaDB: restates the account
// without c's hash; MySQL: DISCARD OLD PASSWORD, after first promoting the
// retained password when c is the new one being rolled back). Alternating
// users: it locks c's account with a random password nobody knows.
//
// Revoke is idempotent: a password that no longer opens the account (or a
// missing account) is already revoked, and that is success. It never
// removes the last password of an account, and in alternating mode never
// locks an account while the other one is locked or missing (ErrLockout).
func (p *Provider) Revoke(ctx context.Context, c provider.Credential) error {
	v, err := parseValue(c.Value.Reveal())
	if err != nil {
		return fmt.Errorf("mysql: revoke: %w", err)
	}
	if p.s.users != nil && !slices.Contains(p.s.users, v.user) {
		return fmt.Errorf("mysql: revoke: %w: the credential logs in as %q, which is not one of users %q", provider.ErrSettings, v.user, p.s.users)
	}
	s, err := openSession(ctx, p.s.admin)
	if err != nil {
		return fmt.Errorf("mysql: revoke: %w", err)
	}
	defer s.close()
	if p.s.users != nil {
		err = p.lockUser(ctx, s, v)
	} else {
		err = p.removePassword(ctx, s, v, c.Meta)
	}
	if errors.Is(err, ErrNoUser) {
		return nil // no account, no way to log in: already revoked
	}
	if err != nil {
		return fmt.Errorf("mysql: revoke: %w", err)
	}
	return nil
}

// removePassword drops v's password from its account, keeping the others.
func (p *Provider) removePassword(ctx context.Context, s *session, v connValue, meta map[string]string) error {
	a, err := s.readAccount(ctx, v.user, p.s.host)
	if err != nil {
		return err
	}
	switch s.kind {
	case kindMariaDB:
		if err := checkPasswordPlugins(a); err != nil {
			return err
		}
		idx, err := matching(a, v.password)
		if err != nil {
			return err
		}
		if len(idx) == 0 {
			return nil
		}
		var keep []alternative
		for i, e := range a.entries {
			if !slices.Contains(idx, i) {
				keep = append(keep, alternative{plugin: e.plugin, hash: e.hash})
			}
		}
		if len(keep) == 0 {
			return fmt.Errorf("%w: it is the only password of %s", ErrLockout, a)
		}
		if err := s.restate(ctx, a.user, a.host, keep, ""); err != nil {
			return fmt.Errorf("remove a password of %s: %w", a, err)
		}
		return nil
	default:
		ok, err := loginWorks(ctx, v)
		if err != nil || !ok {
			return err
		}
		if a.secondary == "" {
			return fmt.Errorf("%w: it is the only password of %s", ErrLockout, a)
		}
		call, _ := provider.CallFrom(ctx)
		if meta[metaRotation] != "" && meta[metaRotation] == call.RotationID {
			// Rolling back: v holds the new, primary password. Make the
			// retained (old) one primary too; the discard below then drops v.
			if !pluginName.MatchString(a.entries[0].plugin) {
				return fmt.Errorf("%w: plugin name %q", ErrUnsupported, a.entries[0].plugin)
			}
			q := "ALTER USER ?@? IDENTIFIED WITH " + a.entries[0].plugin + " AS " + hashLiteral(a.secondary)
			if err := s.exec(ctx, q, nil, a.user, a.host); err != nil {
				return fmt.Errorf("restore the retained password of %s: %w", a, err)
			}
		}
		if err := s.exec(ctx, "ALTER USER ?@? DISCARD OLD PASSWORD", nil, a.user, a.host); err != nil {
			return fmt.Errorf("discard the old password of %s: %w", a, err)
		}
		return nil
	}
}

// lockUser locks v's account with a random password, unless v's password no
// longer opens it (already revoked).
func (p *Provider) lockUser(ctx context.Context, s *session, v connValue) error {
	a, err := s.readAccount(ctx, v.user, p.s.host)
	if err != nil {
		return err
	}
	var opens bool
	switch s.kind {
	case kindMariaDB:
		if err := checkPasswordPlugins(a); err != nil {
			return err
		}
		idx, err := matching(a, v.password)
		if err != nil {
			return err
		}
		opens = len(idx) > 0
	default:
		if opens, err = loginWorks(ctx, v); err != nil {
			return err
		}
	}
	if !opens {
		return nil
	}
	other := p.s.users[0]
	if other == v.user {
		other = p.s.users[1]
	}
	o, err := s.readAccount(ctx, other, p.s.host)
	if err != nil && !errors.Is(err, ErrNoUser) {
		return err
	}
	if err != nil || o.locked {
		return fmt.Errorf("%w: will not lock %s while %s is locked or missing", ErrLockout, a, quoteAccount(other, p.s.host))
	}
	pw, err := p.s.spec.Generate()
	if err != nil {
		return err
	}
	return s.setOnlyPassword(ctx, a, pw.Reveal(), "ACCOUNT LOCK", "lock")
}
