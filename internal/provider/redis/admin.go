package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/slickenv/slickenv/internal/provider/random"
)

const (
	dialTimeout = 5 * time.Second
	ioTimeout   = 10 * time.Second
)

// options are the client options for u: no retries (a provider call is
// retried by the engine, not behind its back), short timeouts, no CLIENT
// SETINFO noise.
func options(u *redisURL) (*goredis.Options, error) {
	opts, err := goredis.ParseURL(u.String())
	if err != nil {
		return nil, scrub(err, u.password)
	}
	opts.MaxRetries = -1
	opts.DialerRetries = 1
	opts.DialTimeout = dialTimeout
	opts.ReadTimeout = ioTimeout
	opts.WriteTimeout = ioTimeout
	opts.PoolSize = 1
	opts.DisableIdentity = true
	return opts, nil
}

// admin is one connection of the admin user.
type admin struct {
	client *goredis.Client
	conn   *goredis.Conn
	id     int64 // our own CLIENT ID, never counted or killed
	secret string
}

func (p *Provider) dial(ctx context.Context) (*admin, error) {
	u, err := parseURL(p.admin)
	if err != nil {
		return nil, fmt.Errorf("admin_url: %w", err)
	}
	opts, err := options(u)
	if err != nil {
		return nil, fmt.Errorf("admin_url: %w", err)
	}
	opts.Protocol = 2 // flat replies for ACL GETUSER on every server version
	client := goredis.NewClient(opts)
	conn := client.Conn()
	id, err := conn.ClientID(ctx).Result()
	if err != nil {
		_ = conn.Close()
		_ = client.Close()
		return nil, fmt.Errorf("connect to %s as admin %q: %w", u.host(), u.user(), scrub(err, u.password))
	}
	return &admin{client: client, conn: conn, id: id, secret: u.password}, nil
}

func (a *admin) close() {
	_ = a.conn.Close()
	_ = a.client.Close()
}

// do runs one command; its error is scrubbed of the admin password and of
// every argument (hashes of passwords included).
func (a *admin) do(ctx context.Context, args ...any) (any, error) {
	v, err := a.conn.Do(ctx, args...).Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		secrets := []string{a.secret}
		for _, arg := range args[min(len(args), 3):] {
			if s, ok := arg.(string); ok {
				secrets = append(secrets, strings.TrimLeft(s, "#!<>"))
			}
		}
		return nil, fmt.Errorf("%s: %w", commandName(args), scrub(err, secrets...))
	}
	return v, err
}

func commandName(args []any) string {
	var parts []string
	for _, a := range args[:min(len(args), 2)] {
		parts = append(parts, strings.ToUpper(fmt.Sprint(a)))
	}
	return strings.Join(parts, " ")
}

// aclUser is what slickenv reads from ACL GETUSER.
type aclUser struct {
	passwords []string  // SHA-256 hex of each password
	createdAt time.Time // marker users only
}

// getUser returns nil (and no error) when the user does not exist.
func (a *admin) getUser(ctx context.Context, name string) (*aclUser, error) {
	v, err := a.do(ctx, "ACL", "GETUSER", name)
	if errors.Is(err, goredis.Nil) || (err == nil && v == nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	fields, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("ACL GETUSER: unexpected reply %T", v)
	}
	u := &aclUser{}
	for i := 0; i+1 < len(fields); i += 2 {
		key, _ := fields[i].(string)
		switch key {
		case "passwords":
			list, _ := fields[i+1].([]any)
			for _, h := range list {
				if s, ok := h.(string); ok {
					u.passwords = append(u.passwords, s)
				}
			}
		case "keys":
			// A string of patterns since Redis 7, a list before.
			var patterns []string
			switch k := fields[i+1].(type) {
			case string:
				patterns = strings.Fields(k)
			case []any:
				for _, p := range k {
					if s, ok := p.(string); ok {
						patterns = append(patterns, s)
					}
				}
			}
			for _, p := range patterns {
				_, ms, found := strings.Cut(p, createdKeyPrefix)
				if n, err := strconv.ParseInt(ms, 10, 64); found && err == nil {
					u.createdAt = time.UnixMilli(n)
				}
			}
		}
	}
	return u, nil
}

func (a *admin) setUser(ctx context.Context, name string, rules ...string) error {
	args := []any{"ACL", "SETUSER", name}
	for _, r := range rules {
		args = append(args, r)
	}
	_, err := a.do(ctx, args...)
	return err
}

func (a *admin) delUser(ctx context.Context, name string) error {
	_, err := a.do(ctx, "ACL", "DELUSER", name)
	return err
}

// save writes the ACL file when the server uses one, so a restart keeps the
// change. Without an ACL file it fails, and there is nothing to save.
func (a *admin) save(ctx context.Context) {
	_, _ = a.do(ctx, "ACL", "SAVE")
}

// client is one line of CLIENT LIST.
type client struct {
	id   int64
	age  int64 // seconds since the connection was opened
	user string
}

func (a *admin) clientList(ctx context.Context) ([]client, error) {
	v, err := a.do(ctx, "CLIENT", "LIST")
	if err != nil {
		return nil, err
	}
	text, _ := v.(string)
	var out []client
	for line := range strings.Lines(text) {
		var c client
		for _, field := range strings.Fields(line) {
			k, val, _ := strings.Cut(field, "=")
			switch k {
			case "id":
				c.id, _ = strconv.ParseInt(val, 10, 64)
			case "age":
				c.age, _ = strconv.ParseInt(val, 10, 64)
			case "user":
				c.user = val
			}
		}
		if c.id != 0 {
			out = append(out, c)
		}
	}
	return out, nil
}

// killID ends one connection and returns 1, or 0 when it was already gone.
func (a *admin) killID(ctx context.Context, id int64) (int, error) {
	v, err := a.do(ctx, "CLIENT", "KILL", "ID", strconv.FormatInt(id, 10))
	if err != nil {
		return 0, err
	}
	n, _ := v.(int64)
	return int(n), nil
}

// roundTrip connects as u and runs PING, SET key EX 60, GET, DEL.
func roundTrip(ctx context.Context, u *redisURL, key string) error {
	opts, err := options(u)
	if err != nil {
		return err
	}
	// RESP2 logs in with AUTH, which every client library uses and every ACL
	// user may run (HELLO needs +hello).
	opts.Protocol = 2
	c := goredis.NewClient(opts)
	defer c.Close()
	where := fmt.Sprintf("%s as %q", u.host(), u.user())
	if err := c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("connect to %s: %w", where, scrub(err, u.password))
	}
	token, err := random.Spec{Length: 16, Encoding: random.Hex}.Generate()
	if err != nil {
		return err
	}
	if err := c.Set(ctx, key, token.Reveal(), time.Minute).Err(); err != nil {
		return fmt.Errorf("SET %s on %s: %w", key, where, scrub(err, u.password))
	}
	got, err := c.Get(ctx, key).Result()
	if err != nil {
		return fmt.Errorf("GET %s on %s: %w", key, where, scrub(err, u.password))
	}
	if got != token.Reveal() {
		return fmt.Errorf("GET %s on %s: read back a different value than was written", key, where)
	}
	if err := c.Del(ctx, key).Err(); err != nil {
		return fmt.Errorf("DEL %s on %s: %w", key, where, scrub(err, u.password))
	}
	return nil
}
