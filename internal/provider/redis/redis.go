// Package redis implements the redis provider: the password of a Redis ACL
// user, held by the application as a redis:// or rediss:// URL.
//
// # Settings
//
//	provider: redis
//	with:
//	  admin_url: "${REDIS_ADMIN_URL}"  # required: a user allowed to run ACL and CLIENT
//	  user: app                        # the ACL user; default: the user in the variable's URL
//	  length: 32                       # of the generated password (see package random); default 32
//	  encoding: base64url              # hex | base64url | alnum; default base64url (URL-safe)
//	  test: "slickenv:test:"           # key prefix of Test's round trip; default "slickenv:test:"
//
// # Rotation
//
// Redis lets one ACL user hold several passwords, so the old and the new
// one are valid together during the window:
//
//   - Create generates a password, records it in a marker user named after
//     the rotation (see below), and adds it to the user (ACL SETUSER user
//     #sha256). The variable's new value is the old URL with only the
//     password replaced.
//   - Test connects with the new URL and runs PING, SET key EX 60, GET, DEL.
//   - InUse counts the user's connections (CLIENT LIST) that are older than
//     the new password: they authenticated with the old one.
//   - Terminate ends those connections (CLIENT KILL ID).
//   - Revoke removes a password from the user (ACL SETUSER user !sha256);
//     removing a password the user no longer has is success.
//
// Passwords travel to the admin connection only as SHA-256 hashes, the form
// in which Redis stores them.
//
// # Idempotence without a journal of our own
//
// The engine journals a provider-generated value only after Create
// returns. A crash between ACL SETUSER and that journal entry would leave a
// password on the user that nobody knows. So Create first records the
// hash of the password it is about to add, and the time, in a disabled ACL
// user "slickenv-pending-<rotation id>" (no commands, no keys, cannot log
// in); a repeated Create for the same rotation removes the recorded password
// from the user before it adds a new one. Revoke deletes the marker.
package redis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/provider/random"
	"github.com/slickenv/slickenv/internal/secret"
)

// Kind is the provider kind in .slickenv.yaml.
const Kind = "redis"

// Setting keys.
const (
	keyAdminURL = "admin_url"
	keyUser     = "user"
	keyTest     = "test"
	keyLength   = "length"
	keyEncoding = "encoding"
)

// DefaultTestPrefix prefixes the key of Test's round trip; the rotation id
// follows it.
const DefaultTestPrefix = "slickenv:test:"

// Meta keys of a credential made by Create.
const (
	MetaUser      = "user"       // the ACL user
	MetaCreatedAt = "created_at" // when the password was added (RFC 3339)
)

// Provider is the redis provider. It implements provider.Provider,
// provider.Detector, provider.UsageReporter and provider.Terminator. It is
// safe for concurrent use.
type Provider struct {
	admin      secret.Value // admin URL
	user       string       // "" for the user in the variable's URL
	testPrefix string
	spec       random.Spec
}

var (
	_ provider.Provider      = (*Provider)(nil)
	_ provider.Detector      = (*Provider)(nil)
	_ provider.UsageReporter = (*Provider)(nil)
	_ provider.Terminator    = (*Provider)(nil)
)

// New builds a redis provider from its settings (see the package
// documentation). A missing admin_url, an unknown key or an invalid value is
// an error wrapping provider.ErrSettings that names the key and never
// contains a value. New does not connect. It is a provider.Factory.
func New(s provider.Settings) (provider.Provider, error) {
	rest := maps.Clone(map[string]any(s))
	if rest == nil {
		rest = map[string]any{}
	}
	p := &Provider{testPrefix: DefaultTestPrefix}

	v, ok := rest[keyAdminURL]
	delete(rest, keyAdminURL)
	admin, isString := v.(string)
	switch {
	case !ok || v == nil:
		return nil, settingsError(keyAdminURL, "required: the URL of a user allowed to run ACL and CLIENT, e.g. \"${REDIS_ADMIN_URL}\"")
	case !isString:
		return nil, settingsError(keyAdminURL, "expected a redis:// or rediss:// URL")
	}
	if _, err := parseURL(secret.New(admin)); err != nil {
		return nil, settingsError(keyAdminURL, "%v", err)
	}
	p.admin = secret.New(admin)

	if v, ok := rest[keyUser]; ok {
		delete(rest, keyUser)
		u, ok := v.(string)
		if !ok || !validUser(u) {
			return nil, settingsError(keyUser, "expected an ACL user name (no spaces or control characters)")
		}
		p.user = u
	}
	if v, ok := rest[keyTest]; ok {
		delete(rest, keyTest)
		t, ok := v.(string)
		if !ok || t == "" || strings.ContainsFunc(t, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return nil, settingsError(keyTest, "expected a key prefix without spaces")
		}
		p.testPrefix = t
	}
	for _, k := range slices.Sorted(maps.Keys(rest)) {
		if k != keyLength && k != keyEncoding {
			return nil, settingsError(k, "unknown setting (known: %s, %s, %s, %s, %s)", keyAdminURL, keyUser, keyLength, keyEncoding, keyTest)
		}
	}
	spec, err := random.ParseSpec(rest)
	if err != nil {
		return nil, err
	}
	p.spec = spec
	return p, nil
}

// SettingsError is an invalid setting. It wraps provider.ErrSettings.
type SettingsError struct {
	Key    string // the setting, e.g. "admin_url"
	Reason string // never contains a value
}

func (e *SettingsError) Error() string {
	return provider.ErrSettings.Error() + ": " + e.Key + ": " + e.Reason
}

// Unwrap returns provider.ErrSettings.
func (e *SettingsError) Unwrap() error { return provider.ErrSettings }

func settingsError(key, format string, args ...any) error {
	return &SettingsError{Key: key, Reason: fmt.Sprintf(format, args...)}
}

func validUser(u string) bool {
	return u != "" && !strings.ContainsFunc(u, func(r rune) bool { return r <= ' ' || r == 0x7f })
}

// Kind returns "redis".
func (p *Provider) Kind() string { return Kind }

// Detect reports whether value is a redis:// or rediss:// URL.
func (p *Provider) Detect(value secret.Value) bool {
	v := value.Reveal()
	return strings.HasPrefix(v, "redis://") || strings.HasPrefix(v, "rediss://")
}

// ErrNoUser is returned before any change when the ACL user does not exist.
var ErrNoUser = errors.New("acl user does not exist")

// Create adds a new password to the ACL user of req.Current (or the user
// setting) and returns req.Current's URL with that password. The current
// password stays valid. A repeated Create for the same rotation id removes
// the password the earlier call added (whose value was never journaled)
// before adding a new one, so nothing unknown is left on the user. Errors
// (unreachable server, wrong admin password, missing user, missing ACL
// permission) come before any change and never contain a password.
func (p *Provider) Create(ctx context.Context, req provider.CreateRequest) (provider.Credential, error) {
	cur, err := parseURL(req.Current.Value)
	if err != nil {
		return provider.Credential{}, fmt.Errorf("redis: create: current value: %w", err)
	}
	if cur.password == "" {
		return provider.Credential{}, errors.New("redis: create: the current URL has no password (slickenv rotates the password of an ACL user)")
	}
	user := p.userOf(cur)
	pw, err := p.spec.Generate()
	if err != nil {
		return provider.Credential{}, fmt.Errorf("redis: create: %w", err)
	}
	newURL := cur.withPassword(pw.Reveal())
	hash := passwordHash(pw.Reveal())

	a, err := p.dial(ctx)
	if err != nil {
		return provider.Credential{}, fmt.Errorf("redis: create: %w", err)
	}
	defer a.close()
	info, err := a.getUser(ctx, user)
	if err != nil {
		return provider.Credential{}, fmt.Errorf("redis: create: %w", err)
	}
	if info == nil {
		return provider.Credential{}, fmt.Errorf("redis: create: user %q: %w (create it first: see docs/providers/redis.md)", user, ErrNoUser)
	}
	now := time.Now()
	if req.RotationID != "" {
		marker := markerName(req.RotationID)
		prev, err := a.getUser(ctx, marker)
		if err != nil {
			return provider.Credential{}, fmt.Errorf("redis: create: %w", err)
		}
		// Record before adding (invariant 2 of the engine, at the source).
		if err := a.setUser(ctx, marker, "reset", "#"+hash, "~"+createdKeyPrefix+fmt.Sprint(now.UnixMilli())); err != nil {
			return provider.Credential{}, fmt.Errorf("redis: create: record the pending password: %w", err)
		}
		if prev != nil {
			curHash := passwordHash(cur.password)
			for _, h := range prev.passwords {
				if h != curHash && slices.Contains(info.passwords, h) {
					if err := a.setUser(ctx, user, "!"+h); err != nil {
						return provider.Credential{}, fmt.Errorf("redis: create: remove the password of an earlier attempt: %w", err)
					}
				}
			}
		}
	}
	if err := a.setUser(ctx, user, "#"+hash); err != nil {
		return provider.Credential{}, fmt.Errorf("redis: create: add the new password to user %q: %w", user, err)
	}
	a.save(ctx)
	return provider.Credential{
		Value: secret.New(newURL),
		Meta:  map[string]string{MetaUser: user, MetaCreatedAt: now.UTC().Format(time.RFC3339Nano)},
	}, nil
}

// Test connects with c's URL and does what an application does: PING, then
// SET a key (with a 60 s TTL), GET it back and DEL it. The key is the test
// prefix followed by the rotation id (or a random suffix outside a
// rotation). The error never contains the password.
func (p *Provider) Test(ctx context.Context, c provider.Credential) error {
	u, err := parseURL(c.Value)
	if err != nil {
		return fmt.Errorf("redis: test: %w", err)
	}
	if err := roundTrip(ctx, u, p.testKey(ctx)); err != nil {
		return fmt.Errorf("redis: test: %w", err)
	}
	return nil
}

// Revoke removes c's password from its ACL user. It is idempotent: a
// password the user no longer has, or a user that no longer exists, is
// success. Connections already authenticated with the password stay open
// (Redis checks passwords only at AUTH); see Terminate. Within a rotation
// it also deletes the rotation's marker user.
func (p *Provider) Revoke(ctx context.Context, c provider.Credential) error {
	u, err := parseURL(c.Value)
	if err != nil {
		return fmt.Errorf("redis: revoke: %w", err)
	}
	if u.password == "" {
		return errors.New("redis: revoke: the URL has no password")
	}
	user := p.userOf(u)
	hash := passwordHash(u.password)
	a, err := p.dial(ctx)
	if err != nil {
		return fmt.Errorf("redis: revoke: %w", err)
	}
	defer a.close()
	info, err := a.getUser(ctx, user)
	if err != nil {
		return fmt.Errorf("redis: revoke: %w", err)
	}
	if info != nil && slices.Contains(info.passwords, hash) {
		if err := a.setUser(ctx, user, "!"+hash); err != nil {
			return fmt.Errorf("redis: revoke: remove the password from user %q: %w", user, err)
		}
	}
	if call, ok := provider.CallFrom(ctx); ok && call.RotationID != "" {
		if err := a.delUser(ctx, markerName(call.RotationID)); err != nil {
			return fmt.Errorf("redis: revoke: %w", err)
		}
	}
	a.save(ctx)
	return nil
}

// InUse counts the connections of c's ACL user that were opened before the
// rotation added its new password (read from the rotation's marker user).
// Redis cannot tell which password a connection used; a connection that old
// can only have used an earlier one. Connections opened after that moment
// with the old password (a process not yet redeployed) are not counted:
// the heuristic under-counts by design rather than block forever on pools
// that already use the new password. CLIENT LIST reports ages in whole
// seconds; a connection opened within a second of the switch counts as old.
func (p *Provider) InUse(ctx context.Context, c provider.Credential) (int, error) {
	ids, err := p.oldConnections(ctx, c, "in use")
	return len(ids), err
}

// Terminate ends the connections InUse counts (CLIENT KILL ID) and returns
// how many it ended. Connections that closed meanwhile are not counted.
func (p *Provider) Terminate(ctx context.Context, c provider.Credential) (int, error) {
	u, err := parseURL(c.Value)
	if err != nil {
		return 0, fmt.Errorf("redis: terminate: %w", err)
	}
	a, err := p.dial(ctx)
	if err != nil {
		return 0, fmt.Errorf("redis: terminate: %w", err)
	}
	defer a.close()
	ids, err := p.oldConnectionsOn(ctx, a, u, "terminate")
	if err != nil {
		return 0, err
	}
	ended := 0
	for _, id := range ids {
		n, err := a.killID(ctx, id)
		if err != nil {
			return ended, fmt.Errorf("redis: terminate: %w", err)
		}
		ended += n
	}
	return ended, nil
}

func (p *Provider) oldConnections(ctx context.Context, c provider.Credential, op string) ([]int64, error) {
	u, err := parseURL(c.Value)
	if err != nil {
		return nil, fmt.Errorf("redis: %s: %w", op, err)
	}
	a, err := p.dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("redis: %s: %w", op, err)
	}
	defer a.close()
	return p.oldConnectionsOn(ctx, a, u, op)
}

// ErrNoSwitchTime is returned by InUse and Terminate outside a rotation
// whose Create recorded when it added the new password.
var ErrNoSwitchTime = errors.New("the time the new password was added is unknown (no rotation marker)")

func (p *Provider) oldConnectionsOn(ctx context.Context, a *admin, u *redisURL, op string) ([]int64, error) {
	call, ok := provider.CallFrom(ctx)
	if !ok || call.RotationID == "" {
		return nil, fmt.Errorf("redis: %s: %w", op, ErrNoSwitchTime)
	}
	marker, err := a.getUser(ctx, markerName(call.RotationID))
	if err != nil {
		return nil, fmt.Errorf("redis: %s: %w", op, err)
	}
	if marker == nil || marker.createdAt.IsZero() {
		return nil, fmt.Errorf("redis: %s: %w", op, ErrNoSwitchTime)
	}
	conns, err := a.clientList(ctx)
	if err != nil {
		return nil, fmt.Errorf("redis: %s: %w", op, err)
	}
	user := p.userOf(u)
	elapsed := time.Since(marker.createdAt).Seconds()
	var ids []int64
	for _, c := range conns {
		if c.user == user && c.id != a.id && float64(c.age)+1 > elapsed {
			ids = append(ids, c.id)
		}
	}
	return ids, nil
}

func (p *Provider) userOf(u *redisURL) string {
	if p.user != "" {
		return p.user
	}
	return u.user()
}

func (p *Provider) testKey(ctx context.Context) string {
	if call, ok := provider.CallFrom(ctx); ok && call.RotationID != "" {
		return p.testPrefix + call.RotationID
	}
	suffix, err := random.Spec{Length: 8, Encoding: random.Hex}.Generate()
	if err != nil {
		return p.testPrefix + fmt.Sprint(time.Now().UnixNano())
	}
	return p.testPrefix + suffix.Reveal()
}

// markerName is the disabled ACL user recording a rotation's pending
// password and the time it was added.
func markerName(rotationID string) string { return "slickenv-pending-" + rotationID }

const createdKeyPrefix = "slickenv-created:"

// passwordHash is how Redis stores a password: lowercase hex SHA-256.
func passwordHash(password string) string {
	sum := sha256.Sum256([]byte(password))
	return hex.EncodeToString(sum[:])
}
