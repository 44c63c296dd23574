package config

import (
	"fmt"
	"net/url"
	"strings"

	"go.yaml.in/yaml/v3"
)

// signalNames lists the signals a signal target may send, canonical form.
func signalNames() []string { return []string{"HUP", "TERM", "INT", "USR1", "USR2", "QUIT"} }

// NormalizeSignal returns the canonical name (without the SIG prefix, upper
// case) of a signal a signal target may send: HUP, TERM, INT, USR1, USR2 or
// QUIT, written with or without "SIG", in any case. ok is false for any other
// name.
func NormalizeSignal(name string) (canonical string, ok bool) {
	upper := strings.ToUpper(name)
	upper = strings.TrimPrefix(upper, "SIG")
	for _, s := range signalNames() {
		if upper == s {
			return s, true
		}
	}
	return "", false
}

func (d *decoder) target(n *yaml.Node, at string) (Target, bool) {
	kinds := []string{"dotenv", "command", "signal"}
	f, ok := d.mapping(n, at, kinds)
	if !ok {
		return Target{}, false
	}
	kind, ok := d.oneOf(f, n, "target", kinds)
	if !ok {
		return Target{}, false
	}
	var t Target
	switch kind {
	case "dotenv":
		if t.Dotenv, ok = d.required(f, "dotenv"); !ok {
			return Target{}, false
		}
	case "command":
		t.Command = d.command(f, "command")
		if t.Command == nil {
			return Target{}, false
		}
	case "signal":
		t.Signal = d.signal(f.values["signal"], joinPath(at, "signal"))
		if t.Signal == nil {
			return Target{}, false
		}
	}
	return t, true
}

// command decodes key as an argv list; nil (with a problem recorded) when it is
// not a non-empty list of strings.
func (d *decoder) command(f *fields, key string) []string {
	at := joinPath(f.path, key)
	n := resolve(f.values[key])
	if isScalar(n) && !isNull(n) {
		d.failf(n, at, "expected a list of arguments such as [systemctl, reload, shop]; commands run without a shell")
		return nil
	}
	argv := d.strings(f, key)
	switch {
	case len(argv) == 0 && (isNull(n) || n.Kind == yaml.SequenceNode):
		d.failf(f.at(key), at, "empty command")
		return nil
	case len(argv) == 0:
		return nil // d.strings recorded the problem
	case argv[0] == "":
		d.failf(f.at(key), at, "empty program name")
		return nil
	}
	return argv
}

func (d *decoder) signal(n *yaml.Node, at string) *SignalTarget {
	f, ok := d.mapping(n, at, []string{"pidfile", "signal"})
	if !ok {
		return nil
	}
	var s SignalTarget
	valid := true
	if s.Pidfile, ok = d.required(f, "pidfile"); !ok {
		valid = false
	}
	name, ok := d.required(f, "signal")
	switch canonical, known := NormalizeSignal(name); {
	case !ok:
		valid = false
	case !known:
		d.failf(f.values["signal"], joinPath(at, "signal"), "unsupported signal %q: use one of %s", name, strings.Join(signalNames(), ", "))
		valid = false
	default:
		s.Signal = canonical
	}
	if !valid {
		return nil
	}
	return &s
}

func (d *decoder) verify(n *yaml.Node, at string) Verify {
	v := Verify{Window: DefaultWindow}
	f, ok := d.mapping(n, at, []string{"window", "approve", "checks", "drain"})
	if !ok {
		return v
	}
	if w, set := d.duration(f, "window"); set {
		v.Window = w
	}
	switch v.Approve = d.str(f, "approve"); v.Approve {
	case "", "auto", "manual":
	default:
		d.failf(f.values["approve"], joinPath(at, "approve"), "invalid value %q: use auto or manual", v.Approve)
	}
	for i, item := range d.list(f, "checks") {
		if c, ok := d.check(item, fmt.Sprintf("%s.checks[%d]", at, i)); ok {
			v.Checks = append(v.Checks, c)
		}
	}
	if f.has("drain") {
		drainAt := joinPath(at, "drain")
		df, ok := d.mapping(f.values["drain"], drainAt, []string{"timeout"})
		if ok {
			v.Drain = &Drain{Timeout: DefaultDrainTimeout}
			if t, set := d.duration(df, "timeout"); set {
				if t == 0 {
					d.failf(df.values["timeout"], joinPath(drainAt, "timeout"), "must be greater than zero")
				}
				v.Drain.Timeout = t
			}
		}
	}
	return v
}

func (d *decoder) check(n *yaml.Node, at string) (Check, bool) {
	kinds := []string{"http", "command"}
	f, ok := d.mapping(n, at, kinds)
	if !ok {
		return Check{}, false
	}
	kind, ok := d.oneOf(f, n, "check", kinds)
	if !ok {
		return Check{}, false
	}
	var c Check
	switch kind {
	case "http":
		c.HTTP = d.httpCheck(f.values["http"], joinPath(at, "http"))
		if c.HTTP == nil {
			return Check{}, false
		}
	case "command":
		c.Command = d.command(f, "command")
		if c.Command == nil {
			return Check{}, false
		}
	}
	return c, true
}

func (d *decoder) httpCheck(n *yaml.Node, at string) *HTTPCheck {
	f, ok := d.mapping(n, at, []string{"url", "every", "min_success"})
	if !ok {
		return nil
	}
	h := HTTPCheck{Every: DefaultCheckEvery, MinSuccess: DefaultMinSuccess}
	valid := true
	if h.URL, ok = d.required(f, "url"); !ok {
		valid = false
	} else if err := checkHTTPURL(h.URL); err != nil {
		d.fail(f.values["url"], joinPath(at, "url"), err)
		valid = false
	}
	if every, set := d.duration(f, "every"); set {
		if every == 0 {
			d.failf(f.values["every"], joinPath(at, "every"), "must be greater than zero")
			valid = false
		}
		h.Every = every
	}
	if m, set := d.float(f, "min_success"); set {
		if !(m >= 0 && m <= 1) {
			d.failf(f.values["min_success"], joinPath(at, "min_success"), "%v is out of range: use a fraction from 0 to 1 (1.0 means every request)", m)
			valid = false
		}
		h.MinSuccess = m
	}
	if !valid {
		return nil
	}
	return &h
}

func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("URL %q must start with http:// or https://", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("URL %q has no host", raw)
	}
	return nil
}
