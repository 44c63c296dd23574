package postgres

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/provider/random"
	"github.com/slickenv/slickenv/internal/secret"
)

// Setting keys.
const (
	keyAdminURL = "admin_url"
	keyRoles    = "roles"
	keyGroup    = "group"
	keyLength   = "length"
	keyEncoding = "encoding"
	keyTest     = "test"
)

// Defaults of the test setting: a harmless round trip. The write runs in a
// transaction that is always rolled back.
const (
	DefaultReadProbe  = "SELECT 1"
	DefaultWriteProbe = "CREATE TEMP TABLE slickenv_probe(x int); INSERT INTO slickenv_probe VALUES (1)"
)

// SettingsError is an invalid or missing setting. It wraps
// provider.ErrSettings, names the key, and never quotes a value.
type SettingsError struct {
	Key    string
	Reason string
}

func (e *SettingsError) Error() string { return fmt.Sprintf("setting %s: %s", e.Key, e.Reason) }

// Unwrap returns provider.ErrSettings.
func (e *SettingsError) Unwrap() error { return provider.ErrSettings }

func settingsError(key, format string, args ...any) error {
	return &SettingsError{Key: key, Reason: fmt.Sprintf(format, args...)}
}

type settings struct {
	adminURL secret.Value
	roles    [2]string
	group    string
	spec     random.Spec
	read     string
	write    string
}

func parseSettings(s provider.Settings) (settings, error) {
	rest := maps.Clone(map[string]any(s))
	if rest == nil {
		rest = map[string]any{}
	}
	var out settings
	take := func(k string) (any, bool) {
		v, ok := rest[k]
		delete(rest, k)
		return v, ok
	}

	v, ok := take(keyAdminURL)
	if !ok {
		return out, settingsError(keyAdminURL, `required: a connection URL of a role with CREATEROLE, usually "${PG_ADMIN_URL}"`)
	}
	switch u := v.(type) {
	case string:
		out.adminURL = secret.New(u)
	case secret.Value:
		out.adminURL = u
	default:
		return out, settingsError(keyAdminURL, "expected a connection URL")
	}
	if out.adminURL.IsEmpty() {
		return out, settingsError(keyAdminURL, "is empty")
	}
	if _, err := pgx.ParseConfig(out.adminURL.Reveal()); err != nil {
		// pgx's message may quote the string: say only that it is invalid.
		return out, settingsError(keyAdminURL, "not a valid PostgreSQL connection string")
	}

	v, ok = take(keyRoles)
	if !ok {
		return out, settingsError(keyRoles, "required: the two login roles that alternate, e.g. [app_blue, app_green]")
	}
	roles, err := stringList(v)
	if err != nil || len(roles) != 2 {
		return out, settingsError(keyRoles, "expected a list of exactly two role names")
	}
	for _, r := range roles {
		if err := checkRoleName(r); err != nil {
			return out, settingsError(keyRoles, "%v", err)
		}
	}
	if roles[0] == roles[1] {
		return out, settingsError(keyRoles, "the two roles must differ")
	}
	out.roles = [2]string{roles[0], roles[1]}

	if v, ok := take(keyGroup); ok {
		g, isString := v.(string)
		if !isString {
			return out, settingsError(keyGroup, "expected a role name")
		}
		if err := checkRoleName(g); err != nil {
			return out, settingsError(keyGroup, "%v", err)
		}
		if slices.Contains(roles, g) {
			return out, settingsError(keyGroup, "the group must differ from both roles")
		}
		out.group = g
	}

	specSettings := map[string]any{}
	for _, k := range []string{keyLength, keyEncoding} {
		if v, ok := take(k); ok {
			specSettings[k] = v
		}
	}
	if out.spec, err = random.ParseSpec(specSettings); err != nil {
		return out, err
	}

	out.read, out.write = DefaultReadProbe, DefaultWriteProbe
	if v, ok := take(keyTest); ok {
		m, isMap := v.(map[string]any)
		if !isMap {
			return out, settingsError(keyTest, "expected {read: SQL, write: SQL}")
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			sql, isString := m[k].(string)
			if !isString || strings.TrimSpace(sql) == "" {
				return out, settingsError(keyTest+"."+k, "expected an SQL statement")
			}
			switch k {
			case "read":
				out.read = sql
			case "write":
				out.write = sql
			default:
				return out, settingsError(keyTest+"."+k, "unknown key (known: read, write)")
			}
		}
	}

	for _, k := range slices.Sorted(maps.Keys(rest)) {
		return out, settingsError(k, "unknown key (known: %s)", strings.Join([]string{keyAdminURL, keyRoles, keyGroup, keyLength, keyEncoding, keyTest}, ", "))
	}
	return out, nil
}

func stringList(v any) ([]string, error) {
	switch l := v.(type) {
	case []string:
		return l, nil
	case []any:
		out := make([]string, len(l))
		for i, e := range l {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("not a string")
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("not a list")
}

// checkRoleName accepts what PostgreSQL accepts as a quoted identifier that
// survives truncation: 1 to 63 bytes, no control characters.
func checkRoleName(s string) error {
	if s == "" {
		return fmt.Errorf("empty role name")
	}
	if len(s) > 63 {
		return fmt.Errorf("role name %q is longer than 63 bytes", s)
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return fmt.Errorf("role name %q has a control character", s)
		}
	}
	return nil
}
