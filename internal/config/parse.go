package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"slices"
	"strings"
	"unicode"

	"go.yaml.in/yaml/v3"
)

// maxReported bounds the problems one error from Parse lists.
const maxReported = 20

// Parse parses and validates the YAML of a project file. filename is used in
// error messages only; the result's Path is "".
//
// Parsing is strict: an unknown or duplicate key, a value of the wrong kind or
// any rule broken (see the package documentation) is an error. Parse reports
// every problem it finds, each a *ParseError naming the file, the line when
// there is one and the setting ("shop/.slickenv.yaml:3: unknown key \"polcy\"
// (did you mean \"policy\"?)"); several are joined with errors.Join, in line
// order, at most 20 of them.
//
// Parse fills in the documented defaults (DefaultEnv, DefaultWindow, …) for
// settings the file leaves out; a null value counts as left out.
func Parse(data []byte, filename string) (*Config, error) {
	if filename == "" {
		filename = FileName
	}
	d := &decoder{file: filename}
	root := d.document(data)
	var cfg *Config
	if len(d.errs) == 0 {
		cfg = d.config(root)
	}
	// Problems are found key by key; report them in file order.
	slices.SortStableFunc(d.errs, func(a, b *ParseError) int { return cmp.Compare(a.Line, b.Line) })
	switch len(d.errs) {
	case 0:
		return cfg, nil
	case 1:
		return nil, d.errs[0]
	}
	var errs []error
	for i, e := range d.errs {
		if i == maxReported {
			errs = append(errs, fmt.Errorf("%s: %d more problems not shown", d.file, len(d.errs)-i))
			break
		}
		errs = append(errs, e)
	}
	return nil, errors.Join(errs...)
}

// document returns the top node of the single YAML document in data, or nil
// when data holds no document.
func (d *decoder) document(data []byte) *yaml.Node {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if !errors.Is(err, io.EOF) {
			d.syntaxError(err)
		}
		return nil
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		d.syntaxError(err)
	default:
		at := &extra
		if len(extra.Content) > 0 {
			at = extra.Content[0]
		}
		d.failf(at, "", "a second YAML document; the file must hold exactly one")
	}
	if len(doc.Content) == 0 {
		return nil
	}
	return doc.Content[0]
}

func (d *decoder) config(root *yaml.Node) *Config {
	top, ok := d.mapping(root, "", []string{"project", "default_env", "store", "actor", "policy", "secrets", "scan"})
	if !ok {
		return nil
	}
	cfg := &Config{DefaultEnv: DefaultEnv}

	if !top.has("project") {
		d.failf(top.at("project"), "", "project is required (e.g. project: shop)")
	} else if cfg.Project = d.str(top, "project"); isScalar(top.values["project"]) && !ValidProjectName(cfg.Project) {
		d.failf(top.values["project"], "project", "invalid name %q: use 1 to 64 of a-z, 0-9, '.', '_' and '-', starting with a letter or digit", cfg.Project)
	}
	if top.has("default_env") {
		cfg.DefaultEnv = d.str(top, "default_env")
		if isScalar(top.values["default_env"]) && !ValidEnvName(cfg.DefaultEnv) {
			d.failf(top.values["default_env"], "default_env", "invalid environment name %q: use a-z, 0-9, '_' and '-', starting with a letter or digit", cfg.DefaultEnv)
		}
	}
	cfg.Store = d.str(top, "store")
	if err := checkStore(cfg.Store); err != nil {
		d.fail(top.values["store"], "store", err)
	}
	cfg.Actor = d.str(top, "actor")
	if strings.ContainsFunc(cfg.Actor, unicode.IsControl) {
		d.failf(top.values["actor"], "actor", "control characters are not allowed")
	}
	cfg.Policy = d.policy(top.values["policy"], "policy")
	cfg.Scan = d.scan(top.values["scan"], "scan")

	secrets, _ := d.mapping(top.values["secrets"], "secrets", nil)
	for _, name := range secrets.order {
		if !ValidSecretName(name) {
			d.failf(secrets.keys[name], "secrets", "invalid variable name %q: use letters, digits, '_', '.' and '-'", name)
			continue
		}
		if cfg.Secrets == nil {
			cfg.Secrets = map[string]Secret{}
		}
		cfg.Secrets[name] = d.secret(secrets.values[name], joinPath("secrets", name), cfg)
	}
	return cfg
}

func isScalar(n *yaml.Node) bool {
	n = resolve(n)
	return n != nil && n.Kind == yaml.ScalarNode
}

func checkStore(store string) error {
	if !strings.Contains(store, "://") {
		return nil
	}
	u, err := url.Parse(store)
	if err != nil {
		return fmt.Errorf("invalid URL: %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("unsupported URL scheme %q: use a path or an https:// URL", u.Scheme)
	}
	if u.Host == "" {
		return fmt.Errorf("URL %q has no host", store)
	}
	return nil
}

// policyDurations decodes warn_after and max_age from f into p, rejecting zero
// and warn_after > max_age.
func (d *decoder) policyDurations(f *fields) Policy {
	var p Policy
	for _, key := range []string{"warn_after", "max_age"} {
		v, set := d.duration(f, key)
		if set && v == 0 {
			d.failf(f.values[key], joinPath(f.path, key), "must be greater than zero (leave it out for the default)")
		}
		if key == "warn_after" {
			p.WarnAfter = v
		} else {
			p.MaxAge = v
		}
	}
	if p.WarnAfter > 0 && p.MaxAge > 0 && p.WarnAfter > p.MaxAge {
		d.failf(f.values["warn_after"], joinPath(f.path, "warn_after"), "%s exceeds max_age (%s)", p.WarnAfter, p.MaxAge)
	}
	return p
}

func (d *decoder) policy(n *yaml.Node, at string) Policy {
	f, ok := d.mapping(n, at, []string{"warn_after", "max_age"})
	if !ok {
		return Policy{}
	}
	return d.policyDurations(f)
}

func (d *decoder) scan(n *yaml.Node, at string) Scan {
	f, ok := d.mapping(n, at, []string{"ignore_paths"})
	if !ok {
		return Scan{}
	}
	var s Scan
	for i, pattern := range d.strings(f, "ignore_paths") {
		if _, err := path.Match(pattern, ""); err != nil || pattern == "" {
			d.failf(d.list(f, "ignore_paths")[i], fmt.Sprintf("%s.ignore_paths[%d]", at, i), "invalid pattern %q", pattern)
			continue
		}
		s.IgnorePaths = append(s.IgnorePaths, pattern)
	}
	return s
}

func (d *decoder) secret(n *yaml.Node, at string, cfg *Config) Secret {
	var s Secret
	f, ok := d.mapping(n, at, []string{"provider", "with", "max_age", "warn_after", "targets", "verify"})
	if !ok {
		return s
	}
	s.Provider = d.str(f, "provider")
	if f.has("provider") && isScalar(f.values["provider"]) && !ValidEnvName(s.Provider) {
		d.failf(f.values["provider"], joinPath(at, "provider"), "invalid provider name %q", s.Provider)
	}
	if f.has("with") {
		s.With = d.settings(f.values["with"], joinPath(at, "with"))
		if s.Provider == "" {
			d.failf(f.at("with"), joinPath(at, "with"), "provider settings need a provider")
		}
	}

	p := d.policyDurations(f)
	s.WarnAfter, s.MaxAge = p.WarnAfter, p.MaxAge
	if s.WarnAfter > 0 && s.MaxAge == 0 {
		if limit := cfg.projectPolicy().MaxAge; limit > 0 && s.WarnAfter > limit {
			origin := "the project's"
			if cfg.Policy == (Policy{}) {
				origin = "the default"
			}
			d.failf(f.values["warn_after"], joinPath(at, "warn_after"), "%s exceeds %s max_age (%s); set max_age for this secret too", s.WarnAfter, origin, limit)
		}
	}

	for i, item := range d.list(f, "targets") {
		if t, ok := d.target(item, fmt.Sprintf("%s.targets[%d]", at, i)); ok {
			s.Targets = append(s.Targets, t)
		}
	}
	s.Verify = d.verify(f.values["verify"], joinPath(at, "verify"))
	return s
}

// settings decodes a provider's with: block and checks the syntax of every
// ${NAME} reference in it.
func (d *decoder) settings(n *yaml.Node, at string) map[string]any {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.failf(n, at, "expected a mapping, got %s", kindName(n))
		return nil
	}
	var m map[string]any
	if err := n.Decode(&m); err != nil {
		var typeErr *yaml.TypeError
		if !errors.As(err, &typeErr) {
			d.failf(n, at, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
			return nil
		}
		for _, msg := range typeErr.Errors {
			line, rest := splitLine(msg)
			if line == 0 {
				line = n.Line
			}
			d.errs = append(d.errs, &ParseError{File: d.file, Line: line, Key: at, Err: errors.New(rest)})
		}
		return nil
	}
	d.checkRefs(n, at)
	return m
}

// checkRefs reports malformed references in the strings under n. Aliases are
// not followed: their anchors are checked where they are defined.
func (d *decoder) checkRefs(n *yaml.Node, at string) {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.ShortTag() == "!!str" {
			if _, err := ExpandRefs(n.Value, func(string) (string, bool) { return "", true }); err != nil {
				d.fail(n, at, err)
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			d.checkRefs(n.Content[i+1], joinPath(at, n.Content[i].Value))
		}
	case yaml.SequenceNode:
		for i, item := range n.Content {
			d.checkRefs(item, fmt.Sprintf("%s[%d]", at, i))
		}
	}
}

// oneOf checks that f sets exactly one of its keys (all of which are allowed
// kinds) and returns it.
func (d *decoder) oneOf(f *fields, n *yaml.Node, what string, kinds []string) (string, bool) {
	switch len(f.order) {
	case 1:
		return f.order[0], true
	case 0:
		d.failf(n, f.path, "empty %s: set one of %s", what, strings.Join(kinds, ", "))
	default:
		d.failf(n, f.path, "a %s has exactly one of %s, got %s", what, strings.Join(kinds, ", "), strings.Join(f.order, " and "))
	}
	return "", false
}
