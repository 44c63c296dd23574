package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/slickenv/slickenv/internal/secret"
)

// SetupResult says what Setup changed; empty when everything was in place.
type SetupResult struct {
	Created []string // roles created, group first
	Granted []string // roles made members of the group
}

// Setup prepares a server for rotation with the admin connection adminURL:
// it creates the group role (NOLOGIN) when group is not empty and missing,
// each of the two login roles when missing (NOLOGIN, IN ROLE group, so
// they can log in only once a rotation gives one a password), and grants
// group to a role that exists without it. It never changes a password,
// never alters an existing role's attributes, and never grants anything
// on tables: grant the application's privileges to the group.
//
// Setup is idempotent, runs in one transaction (all or nothing), and
// refuses superuser roles. Its errors never quote adminURL.
func Setup(ctx context.Context, adminURL secret.Value, group string, roles [2]string) (SetupResult, error) {
	var res SetupResult
	for _, r := range roles {
		if err := checkRoleName(r); err != nil {
			return res, fmt.Errorf("postgres: setup: %w", err)
		}
	}
	if roles[0] == roles[1] {
		return res, fmt.Errorf("postgres: setup: the two roles must differ")
	}
	if group != "" {
		if err := checkRoleName(group); err != nil {
			return res, fmt.Errorf("postgres: setup: %w", err)
		}
		if group == roles[0] || group == roles[1] {
			return res, fmt.Errorf("postgres: setup: the group must differ from both roles")
		}
	}
	conn, err := connect(ctx, adminURL)
	if err != nil {
		return res, fmt.Errorf("postgres: setup: connect with the admin URL: %w", scrubValue(err, adminURL))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	err = pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		res = SetupResult{}
		if group != "" {
			created, err := ensureRole(ctx, tx, group, "")
			if err != nil {
				return err
			}
			if created {
				res.Created = append(res.Created, group)
			}
		}
		for _, r := range roles {
			created, err := ensureRole(ctx, tx, r, group)
			if err != nil {
				return err
			}
			if created {
				res.Created = append(res.Created, r)
				continue
			}
			if group == "" {
				continue
			}
			var member bool
			err = tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
				JOIN pg_roles r ON r.oid = m.member WHERE g.rolname = $1 AND r.rolname = $2)`, group, r).Scan(&member)
			if err != nil {
				return fmt.Errorf("read membership of %s: %w", r, err)
			}
			if !member {
				if _, err := tx.Exec(ctx, "GRANT "+pgx.Identifier{group}.Sanitize()+" TO "+pgx.Identifier{r}.Sanitize()); err != nil {
					return fmt.Errorf("grant %s to %s: %w", group, r, err)
				}
				res.Granted = append(res.Granted, r)
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrUnmanagedRole) {
			return SetupResult{}, fmt.Errorf("postgres: setup: %w", err)
		}
		return SetupResult{}, fmt.Errorf("postgres: setup: %w", scrubValue(err, adminURL))
	}
	return res, nil
}

// ensureRole creates role (NOLOGIN, IN ROLE group when group is set) when
// it is missing, and reports whether it did. An existing superuser role is
// refused.
func ensureRole(ctx context.Context, tx pgx.Tx, role, group string) (bool, error) {
	var super bool
	err := tx.QueryRow(ctx, `SELECT rolsuper FROM pg_roles WHERE rolname = $1`, role).Scan(&super)
	if err == nil {
		if super {
			return false, fmt.Errorf("role %s is a superuser: %w", role, ErrUnmanagedRole)
		}
		return false, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return false, fmt.Errorf("read role %s: %w", role, err)
	}
	stmt := "CREATE ROLE " + pgx.Identifier{role}.Sanitize() + " NOLOGIN"
	if group != "" {
		stmt += " IN ROLE " + pgx.Identifier{group}.Sanitize()
	}
	if _, err := tx.Exec(ctx, stmt); err != nil {
		return false, fmt.Errorf("create role %s: %w", role, err)
	}
	return true, nil
}
