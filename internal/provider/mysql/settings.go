package mysql

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/provider/random"
)

// Setting keys.
const (
	keyAdminURL = "admin_url"
	keyHost     = "host"
	keyUsers    = "users"
	keyLength   = "length"
	keyEncoding = "encoding"
	keyTest     = "test"
)

var knownKeys = []string{keyAdminURL, keyEncoding, keyHost, keyLength, keyTest, keyUsers}

// DefaultHost is the account host part when the host setting is absent.
const DefaultHost = "%"

// settings are the parsed `with:` settings.
type settings struct {
	admin       connValue
	host        string
	users       []string // nil: one user, two passwords; else exactly two users that alternate
	spec        random.Spec
	read, write string // probes; "" write means the default rolled-back temporary-table write
}

func parseSettings(s provider.Settings) (settings, error) {
	out := settings{host: DefaultHost}
	specKeys := map[string]any{}
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		v := s[key]
		switch key {
		case keyAdminURL:
			str, ok := v.(string)
			if !ok || str == "" {
				return settings{}, settingsError(key, "expected a mysql:// URL or DSN of an admin account, usually \"${MYSQL_ADMIN_URL}\"")
			}
			admin, err := parseValue(str)
			if err != nil {
				return settings{}, settingsError(key, "%v", err)
			}
			out.admin = admin
		case keyHost:
			str, ok := v.(string)
			if !ok || str == "" || len(str) > 255 {
				return settings{}, settingsError(key, "expected the account host part, e.g. '%%' or '10.0.0.%%'")
			}
			out.host = str
		case keyUsers:
			users, err := usersSetting(v)
			if err != nil {
				return settings{}, settingsError(key, "%v", err)
			}
			out.users = users
		case keyLength, keyEncoding:
			specKeys[key] = v
		case keyTest:
			m, ok := v.(map[string]any)
			if !ok {
				return settings{}, settingsError(key, "expected {read: SQL, write: SQL}")
			}
			for k, q := range m {
				str, ok := q.(string)
				if !ok || strings.TrimSpace(str) == "" {
					return settings{}, settingsError(key+"."+k, "expected an SQL statement")
				}
				switch k {
				case "read":
					out.read = str
				case "write":
					out.write = str
				default:
					return settings{}, settingsError(key+"."+k, "unknown setting (known: read, write)")
				}
			}
		default:
			return settings{}, settingsError(key, "unknown setting (known: %s)", strings.Join(knownKeys, ", "))
		}
	}
	if out.admin.cfg == nil {
		return settings{}, settingsError(keyAdminURL, "required: a mysql:// URL or DSN of an account that may ALTER USER, usually \"${MYSQL_ADMIN_URL}\"")
	}
	spec, err := random.ParseSpec(specKeys)
	if err != nil {
		var se *random.SettingsError
		if errors.As(err, &se) {
			return settings{}, settingsError(se.Key, "%s", se.Reason)
		}
		return settings{}, err
	}
	out.spec = spec
	if out.read == "" {
		out.read = "SELECT 1"
	}
	return out, nil
}

func usersSetting(v any) ([]string, error) {
	var users []string
	switch l := v.(type) {
	case []string:
		users = l
	case []any:
		for _, u := range l {
			s, ok := u.(string)
			if !ok {
				return nil, fmt.Errorf("expected two user names, e.g. [app_blue, app_green]")
			}
			users = append(users, s)
		}
	default:
		return nil, fmt.Errorf("expected two user names, e.g. [app_blue, app_green]")
	}
	if len(users) != 2 || users[0] == "" || users[1] == "" || users[0] == users[1] {
		return nil, fmt.Errorf("expected two different user names, e.g. [app_blue, app_green]")
	}
	for _, u := range users {
		if len(u) > 128 {
			return nil, fmt.Errorf("user name %.20q… is too long", u)
		}
	}
	return slices.Clone(users), nil
}

// SettingsError is an invalid setting. It wraps provider.ErrSettings and
// never contains a value of admin_url.
type SettingsError struct {
	Key    string // the setting, e.g. "admin_url"
	Reason string
}

func (e *SettingsError) Error() string {
	return provider.ErrSettings.Error() + ": " + e.Key + ": " + e.Reason
}

// Unwrap returns provider.ErrSettings.
func (e *SettingsError) Unwrap() error { return provider.ErrSettings }

func settingsError(key, format string, args ...any) error {
	return &SettingsError{Key: key, Reason: fmt.Sprintf(format, args...)}
}
