package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slickenv/slickenv/internal/config"
)

// TokenPrefix starts every token, so that scanners and humans recognise one.
const TokenPrefix = "slk_"

// Roles, weakest first. A reader reads; a member also writes values and
// drives rotations; an admin also creates environments; an owner also
// manages tokens.
const (
	RoleReader = "reader"
	RoleMember = "member"
	RoleAdmin  = "admin"
	RoleOwner  = "owner"
)

var roleRank = map[string]int{RoleReader: 1, RoleMember: 2, RoleAdmin: 3, RoleOwner: 4}

// AllProjects as a token's project makes an instance token, valid for
// every project (for operators and the shared store test suite); issue
// one only to the server's operator.
const AllProjects = "*"

// ValidRole reports whether role is one of the four roles.
func ValidRole(role string) bool { return roleRank[role] > 0 }

// ErrUnauthorized: the token is missing, unknown, expired or revoked.
var ErrUnauthorized = errors.New("unauthorized")

// Token is a stored token (never the secret itself).
type Token struct {
	ID        string // public, shown in logs and audit details
	Name      string
	Project   string
	Role      string
	Env       string // "": every environment of the project
	ReadOnly  bool
	CreatedAt time.Time
	ExpiresAt time.Time // zero: never
	RevokedAt time.Time // zero: not revoked
}

// TokenRequest describes a token to issue.
type TokenRequest struct {
	Name     string
	Project  string
	Role     string
	Env      string
	ReadOnly bool
	TTL      time.Duration // 0: no expiry
}

// Tokens manages the tokens table.
type Tokens struct{ b *Backend }

func hashToken(secret string) string {
	h := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(h[:])
}

// Issue creates a token and returns its secret, which is not stored and
// cannot be shown again.
func (t *Tokens) Issue(ctx context.Context, req TokenRequest) (string, Token, error) {
	if req.Project != AllProjects && !config.ValidProjectName(req.Project) {
		return "", Token{}, fmt.Errorf("invalid project name %q", req.Project)
	}
	if !ValidRole(req.Role) {
		return "", Token{}, fmt.Errorf("invalid role %q: use owner, admin, member or reader", req.Role)
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", Token{}, err
	}
	secret := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw[:])
	hash := hashToken(secret)
	now := t.b.now().UTC().Truncate(time.Microsecond)
	tok := Token{ID: "tok_" + hash[:12], Name: req.Name, Project: req.Project, Role: req.Role, Env: req.Env, ReadOnly: req.ReadOnly, CreatedAt: now}
	if tok.Name == "" {
		tok.Name = tok.ID
	}
	var expires int64
	if req.TTL > 0 {
		tok.ExpiresAt = now.Add(req.TTL)
		expires = tok.ExpiresAt.UnixMicro()
	}
	_, err := t.b.db.ExecContext(ctx, t.b.q(`INSERT INTO tokens (id, hash, name, project, role, env, read_only, created_at, expires_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0)`),
		tok.ID, hash, tok.Name, tok.Project, tok.Role, tok.Env, tok.ReadOnly, now.UnixMicro(), expires)
	if err != nil {
		return "", Token{}, fmt.Errorf("issue token: %w", err)
	}
	return secret, tok, nil
}

// Revoke revokes a token by id: requests with it get 401 from then on, on
// every replica. Revoking a revoked token succeeds; an unknown id is an
// error.
func (t *Tokens) Revoke(ctx context.Context, id string) error {
	res, err := t.b.db.ExecContext(ctx, t.b.q(`UPDATE tokens SET revoked_at = ? WHERE id = ? AND revoked_at = 0`), t.b.now().UnixMicro(), id)
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var one int
		if err := t.b.db.QueryRowContext(ctx, t.b.q(`SELECT 1 FROM tokens WHERE id = ?`), id).Scan(&one); errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("revoke token %s: no such token", id)
		}
	}
	return nil
}

// Authenticate returns the token whose secret this is. ErrUnauthorized
// when it is malformed, unknown, expired or revoked.
func (t *Tokens) Authenticate(ctx context.Context, secret string) (Token, error) {
	if !strings.HasPrefix(secret, TokenPrefix) || len(secret) > 128 {
		return Token{}, fmt.Errorf("%w: not a slickenv token", ErrUnauthorized)
	}
	var tok Token
	var created, expires, revoked int64
	err := t.b.db.QueryRowContext(ctx, t.b.q(`SELECT id, name, project, role, env, read_only, created_at, expires_at, revoked_at FROM tokens WHERE hash = ?`), hashToken(secret)).
		Scan(&tok.ID, &tok.Name, &tok.Project, &tok.Role, &tok.Env, &tok.ReadOnly, &created, &expires, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return Token{}, fmt.Errorf("%w: unknown token", ErrUnauthorized)
	}
	if err != nil {
		return Token{}, fmt.Errorf("authenticate: %w", err)
	}
	tok.CreatedAt = time.UnixMicro(created).UTC()
	if expires != 0 {
		tok.ExpiresAt = time.UnixMicro(expires).UTC()
	}
	if revoked != 0 {
		tok.RevokedAt = time.UnixMicro(revoked).UTC()
		return Token{}, fmt.Errorf("%w: token %s was revoked", ErrUnauthorized, tok.ID)
	}
	if !tok.ExpiresAt.IsZero() && !t.b.now().Before(tok.ExpiresAt) {
		return Token{}, fmt.Errorf("%w: token %s expired at %s", ErrUnauthorized, tok.ID, tok.ExpiresAt.Format(time.RFC3339))
	}
	return tok, nil
}

// Active returns how many unrevoked, unexpired tokens a project has.
func (t *Tokens) Active(ctx context.Context, project string) (int, error) {
	var n int
	now := t.b.now().UnixMicro()
	err := t.b.db.QueryRowContext(ctx, t.b.q(`SELECT COUNT(*) FROM tokens WHERE project = ? AND revoked_at = 0 AND (expires_at = 0 OR expires_at > ?)`), project, now).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count tokens of %s: %w", project, err)
	}
	return n, nil
}
