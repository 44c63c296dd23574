package exec

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/slickenv/slickenv/internal/config"
	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/provider/random"
)

// DefaultTimeout bounds each command when the timeout setting is absent.
const DefaultTimeout = 60 * time.Second

// Setting keys.
const (
	keyCreate   = "create"
	keyTest     = "test"
	keyRevoke   = "revoke"
	keyGenerate = "generate"
	keyTimeout  = "timeout"
	keyDir      = "dir"
	keyEnv      = "env"
)

var knownKeys = []string{keyCreate, keyTest, keyRevoke, keyGenerate, keyTimeout, keyDir, keyEnv}

// settings are the parsed `with:` settings.
type settings struct {
	create, test, revoke []string // test and revoke: nil when absent
	generate             *random.Spec
	timeout              time.Duration
	dir                  string
	env                  []envVar // sorted by name
}

type envVar struct{ name, value string }

func parseSettings(s provider.Settings) (settings, error) {
	out := settings{timeout: DefaultTimeout}
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		v := s[key]
		var err error
		switch key {
		case keyCreate:
			out.create, err = argvSetting(v)
		case keyTest:
			out.test, err = argvSetting(v)
		case keyRevoke:
			out.revoke, err = argvSetting(v)
		case keyGenerate:
			var m map[string]any
			if m, err = mapSetting(v); err == nil {
				var spec random.Spec
				if spec, err = random.ParseSpec(m); err != nil {
					var se *random.SettingsError
					if errors.As(err, &se) {
						return settings{}, settingsError(keyGenerate+"."+se.Key, se.Reason)
					}
					return settings{}, settingsError(keyGenerate, err.Error())
				}
				out.generate = &spec
			}
		case keyTimeout:
			out.timeout, err = timeoutSetting(v)
		case keyDir:
			str, ok := v.(string)
			if !ok || str == "" {
				err = fmt.Errorf("expected a directory path")
			}
			out.dir = str
		case keyEnv:
			out.env, err = envSetting(v)
		default:
			return settings{}, settingsError(key, "unknown setting (known: "+strings.Join(knownKeys, ", ")+")")
		}
		if err != nil {
			return settings{}, settingsError(key, err.Error())
		}
	}
	if out.create == nil {
		return settings{}, settingsError(keyCreate, "required: the command that makes a new credential, e.g. [./rotate.sh, create]")
	}
	return out, nil
}

// argvSetting reads a non-empty list of strings. Numbers and booleans are
// accepted as written, since YAML decodes `[./x, 3]` with an int.
func argvSetting(v any) ([]string, error) {
	var items []any
	switch l := v.(type) {
	case []any:
		items = l
	case []string:
		for _, s := range l {
			items = append(items, s)
		}
	case string:
		return nil, fmt.Errorf("expected a list (argv, run without a shell), not a string: e.g. [./rotate.sh, create]")
	default:
		return nil, fmt.Errorf("expected a list of strings (argv), e.g. [./rotate.sh, create]")
	}
	if len(items) == 0 {
		return nil, fmt.Errorf("empty command")
	}
	argv := make([]string, len(items))
	for i, item := range items {
		switch x := item.(type) {
		case string:
			argv[i] = x
		case int:
			argv[i] = strconv.Itoa(x)
		case int64:
			argv[i] = strconv.FormatInt(x, 10)
		case uint64:
			argv[i] = strconv.FormatUint(x, 10)
		case bool:
			argv[i] = strconv.FormatBool(x)
		default:
			return nil, fmt.Errorf("[%d]: expected a string", i)
		}
	}
	if argv[0] == "" {
		return nil, fmt.Errorf("[0]: empty program name")
	}
	return argv, nil
}

func mapSetting(v any) (map[string]any, error) {
	switch m := v.(type) {
	case nil:
		// `generate:` with nothing after it: the defaults.
		return nil, nil
	case map[string]any:
		return m, nil
	case provider.Settings:
		return m, nil
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, e := range m {
			ks, ok := k.(string)
			if !ok {
				return nil, fmt.Errorf("expected string keys")
			}
			out[ks] = e
		}
		return out, nil
	default:
		return nil, fmt.Errorf("expected a mapping such as {length: 32, encoding: base64url}")
	}
}

func timeoutSetting(v any) (time.Duration, error) {
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("expected a duration such as 30s")
	}
	d, err := config.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	if d <= 0 {
		return 0, fmt.Errorf("must be positive")
	}
	return d.Std(), nil
}

func envSetting(v any) ([]envVar, error) {
	m, err := mapSetting(v)
	if err != nil {
		return nil, fmt.Errorf("expected a mapping of variable names to strings")
	}
	out := make([]envVar, 0, len(m))
	for name, e := range m {
		if !validEnvVarName(name) {
			return nil, fmt.Errorf("invalid variable name %q (use [A-Za-z_][A-Za-z0-9_]*)", name)
		}
		if reserved(name) {
			return nil, fmt.Errorf("%s is set by slickenv", name)
		}
		var value string
		switch x := e.(type) {
		case string:
			value = x
		case int:
			value = strconv.Itoa(x)
		case bool:
			value = strconv.FormatBool(x)
		default:
			// Never print the value: it is often a resolved secret.
			return nil, fmt.Errorf("%s: expected a string", name)
		}
		out = append(out, envVar{name, value})
	}
	slices.SortFunc(out, func(a, b envVar) int { return strings.Compare(a.name, b.name) })
	return out, nil
}

func validEnvVarName(s string) bool {
	if s == "" || '0' <= s[0] && s[0] <= '9' {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// settingsError wraps provider.ErrSettings, naming the setting. reason never
// contains a setting's value (it may be a resolved secret).
func settingsError(key, reason string) error {
	return fmt.Errorf("%w: %s: %s", provider.ErrSettings, key, reason)
}
