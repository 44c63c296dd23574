package all

import (
	"errors"
	"slices"
	"testing"

	"github.com/slickenv/slickenv/internal/provider"
)

func TestRegistry(t *testing.T) {
	r := Registry()
	if got, want := r.Kinds(), []string{"exec", "mysql", "postgres", "random", "redis"}; !slices.Equal(got, want) {
		t.Fatalf("Kinds() = %v, want %v", got, want)
	}
	for kind, settings := range map[string]provider.Settings{
		"random": nil,
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
