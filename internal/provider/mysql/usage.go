package mysql

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-sql-driver/mysql"

	"github.com/slickenv/slickenv/internal/provider"
)

// InUse counts the sessions logged in as c's account (by user name, any
// host), other than slickenv's own, from information_schema.PROCESSLIST.
// The admin needs the PROCESS privilege to see other users' sessions;
// without it InUse fails with ErrPrivileges instead of reporting 0.
func (a *Alternating) InUse(ctx context.Context, c provider.Credential) (int, error) {
	ids, err := a.sessions(ctx, c, func(ctx context.Context, s *session, ids []int64) (int, error) { return len(ids), nil })
	if err != nil {
		return 0, fmt.Errorf("mysql: in use: %w", err)
	}
	return ids, nil
}

// Terminate ends every session InUse counts (KILL CONNECTION) and returns
// how many it ended; sessions that ended by themselves meanwhile are not
// counted and are not an error.
func (a *Alternating) Terminate(ctx context.Context, c provider.Credential) (int, error) {
	n, err := a.sessions(ctx, c, func(ctx context.Context, s *session, ids []int64) (int, error) {
		ended := 0
		for _, id := range ids {
			err := s.exec(ctx, "KILL CONNECTION ?", nil, id)
			var me *mysql.MySQLError
			if errors.As(err, &me) && me.Number == 1094 { // unknown thread: already gone
				continue
			}
			if err != nil {
				return ended, fmt.Errorf("kill session %d: %w", id, err)
			}
			ended++
		}
		return ended, nil
	})
	if err != nil {
		return n, fmt.Errorf("mysql: terminate: %w", err)
	}
	return n, nil
}

func (a *Alternating) sessions(ctx context.Context, c provider.Credential, do func(context.Context, *session, []int64) (int, error)) (int, error) {
	v, err := parseValue(c.Value.Reveal())
	if err != nil {
		return 0, err
	}
	s, err := openSession(ctx, a.s.admin)
	if err != nil {
		return 0, err
	}
	defer s.close()
	var process int
	err = s.conn.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES
		WHERE PRIVILEGE_TYPE = 'PROCESS' AND GRANTEE = CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')`).Scan(&process)
	if err != nil {
		return 0, fmt.Errorf("check the PROCESS privilege: %w", redact(err, s.secret))
	}
	if process == 0 {
		return 0, fmt.Errorf("%w: the admin needs the PROCESS privilege to see the sessions of %q", ErrPrivileges, v.user)
	}
	rows, err := s.conn.QueryContext(ctx, "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = ? AND ID <> CONNECTION_ID()", v.user)
	if err != nil {
		return 0, fmt.Errorf("list the sessions of %q: %w", v.user, redact(err, s.secret))
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, redact(err, s.secret)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, redact(err, s.secret)
	}
	return do(ctx, s, ids)
}
