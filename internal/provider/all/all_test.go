package all

import (
	"errors"
	"slices"
	"testing"

	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/secret"
)

func TestRegistry(t *testing.T) {
	r := Registry()
	if got, want := r.Kinds(), []string{"exec", "mysql", "postgres", "random", "redis", "stripe"}; !slices.Equal(got, want) {
		t.Fatalf("Kinds() = %v, want %v", got, want)
	}
	for kind, settings := range map[string]provider.Settings{
		"random": nil,
		"stripe": nil,
		"exec":   {"create": []any{"true"}},
	} {
		p, err := r.New(kind, settings)
		if err != nil {
			t.Fatalf("New(%s): %v", kind, err)
		}
		if p.Kind() != kind {
			t.Errorf("New(%s).Kind() = %q", kind, p.Kind())
		}
	}
	if _, err := r.New("exec", nil); !errors.Is(err, provider.ErrSettings) {
		t.Errorf("New(exec, nil) = %v, want ErrSettings", err)
	}
	if _, err := r.New("nope", nil); err == nil {
		t.Error("New(nope) succeeded")
	}
	if Registry() == r {
		t.Error("Registry returned a shared registry")
	}
}

// TestDetect is step [1/5] without configuration: each value's shape names
// one kind, or none.
func TestDetect(t *testing.T) {
	r := Registry()
	for _, tc := range []struct {
		value string
		want  []string
	}{
		{"sk_live_51HabcDEFghi", []string{"stripe"}},
		{"sk_test_51HabcDEFghi", []string{"stripe"}},
		{"rk_live_51HabcDEFghi", []string{"stripe"}},
		{"rk_test_51HabcDEFghi", []string{"stripe"}},
		{"postgres://app:pw@db:5432/shop", []string{"postgres"}},
		{"postgresql://app:pw@db/shop", []string{"postgres"}},
		{"mysql://app:pw@db:3306/shop", []string{"mysql"}},
		{"app:pw@tcp(db:3306)/shop", []string{"mysql"}},
		{"redis://default:pw@cache:6379/0", []string{"redis"}},
		{"rediss://default:pw@cache:6379/0", []string{"redis"}},
		{"pk_live_51HabcDEFghi", nil},
		{"whsec_0123456789abcdef", nil},
		{"hello", nil},
		{"", nil},
	} {
		t.Run(tc.value, func(t *testing.T) {
			if got := r.Detect(secret.New(tc.value)); !slices.Equal(got, tc.want) {
				t.Errorf("Detect = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDetectSeveral(t *testing.T) {
	r := Registry()
	r.Register("also-stripe", func(provider.Settings) (provider.Provider, error) { return nil, errors.New("unused") })
	r.RegisterDetector("also-stripe", func(v secret.Value) bool { return len(v.Reveal()) > 3 && v.Reveal()[:3] == "sk_" })
	if got, want := r.Detect(secret.New("sk_test_abc")), []string{"also-stripe", "stripe"}; !slices.Equal(got, want) {
		t.Errorf("Detect = %v, want %v", got, want)
	}
}
