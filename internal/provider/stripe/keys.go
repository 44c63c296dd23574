package stripe

import (
	"strings"

	"github.com/slickenv/slickenv/internal/secret"
)

// keyKind is what a key's prefix says about it: secret or restricted, live
// or test mode. Stripe rolls a key into one of the same kind.
type keyKind struct {
	prefix     string // "sk_live_"
	restricted bool
	live       bool
}

var keyKinds = []keyKind{
	{"sk_live_", false, true},
	{"sk_test_", false, false},
	{"rk_live_", true, true},
	{"rk_test_", true, false},
}

// kindOf returns the kind of a Stripe secret or restricted key; ok is
// false for anything else (a publishable key pk_… is not a secret).
func kindOf(v secret.Value) (keyKind, bool) {
	s := v.Reveal()
	for _, k := range keyKinds {
		if strings.HasPrefix(s, k.prefix) && len(s) > len(k.prefix) && !strings.ContainsFunc(s, isSpaceOrControl) {
			return k, true
		}
	}
	return keyKind{}, false
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

// Detect reports whether value is a Stripe secret or restricted key
// (sk_live_, sk_test_, rk_live_, rk_test_). It needs no settings, so the
// registry uses it before a provider exists.
func Detect(value secret.Value) bool {
	_, ok := kindOf(value)
	return ok
}

// String describes the kind without any key material: "live-mode secret key".
func (k keyKind) String() string {
	mode, what := "test-mode", "secret key"
	if k.live {
		mode = "live-mode"
	}
	if k.restricted {
		what = "restricted key"
	}
	return mode + " " + what
}

// dashboardURL is the API keys page of the key's mode.
func (k keyKind) dashboardURL() string {
	if k.live {
		return "https://dashboard.stripe.com/apikeys"
	}
	return "https://dashboard.stripe.com/test/apikeys"
}
