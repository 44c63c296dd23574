package config

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrUnknownRef is wrapped by ExpandRefs and ExpandSettings when a ${NAME}
// reference names a variable the lookup does not know.
var ErrUnknownRef = errors.New("unknown reference")

// ExpandRefs replaces each ${NAME} reference in s with lookup(NAME).
//
// NAME must be a valid variable name (see ValidSecretName). "$$" stands for a
// literal "$", and a "$" not followed by "{" or "$" is kept as it is, so
// "pa$word" needs no escaping. Substituted values are not expanded again.
//
// Errors never contain a looked-up value: an unknown name yields an error
// wrapping ErrUnknownRef that names the reference ("unknown reference
// ${PG_ADMIN_URL}"); an unterminated, empty or malformed reference yields an
// error naming its byte offset in s.
func ExpandRefs(s string, lookup func(name string) (string, bool)) (string, error) {
	if !strings.Contains(s, "$") {
		return s, nil
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		name, width, err := scanRef(s, i)
		switch {
		case err != nil:
			return "", err
		case width == 0:
			b.WriteByte(s[i])
			i++
		case name == "":
			b.WriteByte('$') // "$$"
			i += width
		default:
			v, ok := lookup(name)
			if !ok {
				return "", fmt.Errorf("%w ${%s}", ErrUnknownRef, name)
			}
			b.WriteString(v)
			i += width
		}
	}
	return b.String(), nil
}

// Refs returns the names referenced as ${NAME} in s, each once, in order of
// first appearance. Escaped "$${NAME}" and malformed references (up to their
// "}") are skipped; ExpandRefs reports the latter.
func Refs(s string) []string {
	var names []string
	for i := 0; i < len(s); {
		name, width, err := scanRef(s, i)
		if width == 0 {
			i++
			continue
		}
		if err == nil && name != "" && !slices.Contains(names, name) {
			names = append(names, name)
		}
		i += width
	}
	return names
}

// scanRef looks at s[i]. It returns width 0 for an ordinary byte (including a
// lone "$"), name "" with width 2 for "$$", and the name and total width of a
// well-formed "${NAME}". For a malformed reference it returns an error and the
// width to skip: up to its "}", or the rest of s when there is none (so
// scanning a string stays linear).
func scanRef(s string, i int) (name string, width int, err error) {
	if s[i] != '$' || i+1 >= len(s) {
		return "", 0, nil
	}
	switch s[i+1] {
	case '$':
		return "", 2, nil
	case '{':
	default:
		return "", 0, nil
	}
	end := strings.IndexByte(s[i+2:], '}')
	if end < 0 {
		return "", len(s) - i, fmt.Errorf("unterminated reference at offset %d: \"${\" without \"}\" (write $$ for a literal $)", i)
	}
	name = s[i+2 : i+2+end]
	if name == "" {
		return "", 3, fmt.Errorf("empty reference \"${}\" at offset %d", i)
	}
	if !ValidSecretName(name) {
		return "", end + 3, fmt.Errorf("invalid reference name %q at offset %d: use letters, digits, '_', '.' or '-'", name, i)
	}
	return name, end + 3, nil
}

// ExpandSettings returns a deep copy of settings (a Secret's With) in which
// every string value, at any depth, has been expanded with ExpandRefs. Keys are
// not expanded. settings itself is never modified. Errors name the setting's
// path, e.g. "admin_url: unknown reference ${PG_ADMIN_URL}", and wrap
// ErrUnknownRef where ExpandRefs does. A nil map yields nil.
func ExpandSettings(settings map[string]any, lookup func(name string) (string, bool)) (map[string]any, error) {
	if settings == nil {
		return nil, nil
	}
	v, err := expandValue(settings, "", lookup)
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), nil
}

func expandValue(v any, path string, lookup func(string) (string, bool)) (any, error) {
	switch v := v.(type) {
	case string:
		s, err := ExpandRefs(v, lookup)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return s, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for _, k := range sortedKeys(v) {
			e, err := expandValue(v[k], joinPath(path, k), lookup)
			if err != nil {
				return nil, err
			}
			out[k] = e
		}
		return out, nil
	case map[any]any:
		out := make(map[any]any, len(v))
		for k, e := range v {
			e, err := expandValue(e, joinPath(path, fmt.Sprint(k)), lookup)
			if err != nil {
				return nil, err
			}
			out[k] = e
		}
		return out, nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			e, err := expandValue(e, fmt.Sprintf("%s[%d]", path, i), lookup)
			if err != nil {
				return nil, err
			}
			out[i] = e
		}
		return out, nil
	default:
		return v, nil
	}
}

// SettingsRefs returns the names referenced by string values anywhere in
// settings, each once: keys are visited in sorted order, so the result is
// deterministic.
func SettingsRefs(settings map[string]any) []string {
	var names []string
	var visit func(v any)
	visit = func(v any) {
		switch v := v.(type) {
		case string:
			for _, n := range Refs(v) {
				if !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
		case map[string]any:
			for _, k := range sortedKeys(v) {
				visit(v[k])
			}
		case map[any]any:
			keys := make([]string, 0, len(v))
			byKey := make(map[string]any, len(v))
			for k, e := range v {
				ks := fmt.Sprint(k)
				keys = append(keys, ks)
				byKey[ks] = e
			}
			slices.Sort(keys)
			for _, k := range keys {
				visit(byKey[k])
			}
		case []any:
			for _, e := range v {
				visit(e)
			}
		}
	}
	visit(settings)
	return names
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func joinPath(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}
