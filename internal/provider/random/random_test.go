package random

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/provider/providertest"
	"github.com/slickenv/slickenv/internal/secret"
)

func TestNewSettings(t *testing.T) {
	tests := []struct {
		name     string
		settings provider.Settings
		want     Spec
		previous string
		errKey   string // "" when valid; else the key the error must name
	}{
		{name: "defaults", settings: nil, want: Spec{32, Base64URL, ""}},
		{name: "empty", settings: provider.Settings{}, want: Spec{32, Base64URL, ""}},
		{name: "all set", settings: provider.Settings{"length": 24, "encoding": "hex", "prefix": "whsec_", "previous": "OLD_KEY"},
			want: Spec{24, Hex, "whsec_"}, previous: "OLD_KEY"},
		{name: "alnum minimum", settings: provider.Settings{"encoding": "alnum", "length": 22}, want: Spec{22, Alnum, ""}},
		{name: "hex minimum", settings: provider.Settings{"encoding": "hex", "length": 16}, want: Spec{16, Hex, ""}},
		{name: "maximum", settings: provider.Settings{"length": MaxLength}, want: Spec{MaxLength, Base64URL, ""}},
		{name: "length as string", settings: provider.Settings{"length": "48"}, want: Spec{48, Base64URL, ""}},
		{name: "length as float", settings: provider.Settings{"length": 40.0}, want: Spec{40, Base64URL, ""}},
		{name: "length as int64", settings: provider.Settings{"length": int64(40)}, want: Spec{40, Base64URL, ""}},
		{name: "length as uint64", settings: provider.Settings{"length": uint64(40)}, want: Spec{40, Base64URL, ""}},

		{name: "unknown key", settings: provider.Settings{"lenght": 32}, errKey: "lenght"},
		{name: "alphabet is not a key", settings: provider.Settings{"alphabet": "hex"}, errKey: "alphabet"},
		{name: "length bool", settings: provider.Settings{"length": true}, errKey: "length"},
		{name: "length fraction", settings: provider.Settings{"length": 32.5}, errKey: "length"},
		{name: "length infinite", settings: provider.Settings{"length": math.Inf(1)}, errKey: "length"},
		{name: "length huge float", settings: provider.Settings{"length": 1e30}, errKey: "length"},
		{name: "length huge int64", settings: provider.Settings{"length": int64(1) << 40}, errKey: "length"},
		{name: "length huge uint64", settings: provider.Settings{"length": uint64(1) << 63}, errKey: "length"},
		{name: "length text", settings: provider.Settings{"length": "thirty"}, errKey: "length"},
		{name: "length zero", settings: provider.Settings{"length": 0}, errKey: "length"},
		{name: "length negative", settings: provider.Settings{"length": -32}, errKey: "length"},
		{name: "length over maximum", settings: provider.Settings{"length": MaxLength + 1}, errKey: "length"},
		{name: "base64url too weak", settings: provider.Settings{"length": 15}, errKey: "length"},
		{name: "hex too weak", settings: provider.Settings{"encoding": "hex", "length": 15}, errKey: "length"},
		{name: "alnum too weak", settings: provider.Settings{"encoding": "alnum", "length": 21}, errKey: "length"},
		{name: "encoding not string", settings: provider.Settings{"encoding": 64}, errKey: "encoding"},
		{name: "encoding unknown", settings: provider.Settings{"encoding": "base64"}, errKey: "encoding"},
		{name: "encoding upper case", settings: provider.Settings{"encoding": "HEX"}, errKey: "encoding"},
		{name: "prefix not string", settings: provider.Settings{"prefix": 1}, errKey: "prefix"},
		{name: "prefix too long", settings: provider.Settings{"prefix": strings.Repeat("p", MaxPrefixLength+1)}, errKey: "prefix"},
		{name: "prefix space", settings: provider.Settings{"prefix": "a b"}, errKey: "prefix"},
		{name: "prefix newline", settings: provider.Settings{"prefix": "a\n"}, errKey: "prefix"},
		{name: "prefix quote", settings: provider.Settings{"prefix": `a"`}, errKey: "prefix"},
		{name: "prefix dollar", settings: provider.Settings{"prefix": "$a"}, errKey: "prefix"},
		{name: "prefix hash", settings: provider.Settings{"prefix": "#a"}, errKey: "prefix"},
		{name: "prefix non-ascii", settings: provider.Settings{"prefix": "é_"}, errKey: "prefix"},
		{name: "previous not string", settings: provider.Settings{"previous": 1}, errKey: "previous"},
		{name: "previous invalid", settings: provider.Settings{"previous": "OLD KEY"}, errKey: "previous"},
		{name: "previous empty", settings: provider.Settings{"previous": ""}, errKey: "previous"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := New(tt.settings)
			if tt.errKey != "" {
				if err == nil {
					t.Fatalf("New(%v) succeeded", tt.settings)
				}
				if !errors.Is(err, provider.ErrSettings) {
					t.Errorf("error %v does not wrap ErrSettings", err)
				}
				var se *SettingsError
				if !errors.As(err, &se) || se.Key != tt.errKey {
					t.Errorf("error %v does not name %q", err, tt.errKey)
				}
				if !strings.Contains(err.Error(), tt.errKey) {
					t.Errorf("error %q does not mention %q", err, tt.errKey)
				}
				return
			}
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			rp := p.(*Provider)
			if rp.Spec() != tt.want {
				t.Errorf("Spec() = %+v, want %+v", rp.Spec(), tt.want)
			}
			wantPrev := tt.previous
			if wantPrev == "" {
				wantPrev = "KEY_PREVIOUS"
			}
			if got := rp.PreviousName("KEY"); got != wantPrev {
				t.Errorf("PreviousName(KEY) = %q, want %q", got, wantPrev)
			}
		})
	}
}

func TestParseSpecRejectsPrevious(t *testing.T) {
	// previous belongs to the random provider, not to a Spec (exec's
	// generate map has no companion variable).
	_, err := ParseSpec(map[string]any{"previous": "X"})
	var se *SettingsError
	if !errors.As(err, &se) || se.Key != "previous" {
		t.Fatalf("ParseSpec(previous) = %v", err)
	}
}

func TestGenerateShape(t *testing.T) {
	specs := []Spec{
		{32, Base64URL, ""},
		{16, Base64URL, "k_"},
		{31, Base64URL, ""}, // not a multiple of 3
		{32, Hex, ""},
		{20, Hex, "whsec_"},
		{22, Alnum, ""},
		{40, Alnum, "tok-"},
	}
	for _, spec := range specs {
		t.Run(string(spec.Encoding)+"/"+spec.Prefix, func(t *testing.T) {
			seen := map[string]bool{}
			for range 1000 {
				v, err := spec.Generate()
				if err != nil {
					t.Fatal(err)
				}
				s := v.Reveal()
				if len(s) != spec.EncodedLength() {
					t.Fatalf("length %d, want %d", len(s), spec.EncodedLength())
				}
				body, ok := strings.CutPrefix(s, spec.Prefix)
				if !ok {
					t.Fatal("missing prefix")
				}
				var raw []byte
				switch spec.Encoding {
				case Hex:
					raw, err = hex.DecodeString(body)
					if strings.ToLower(body) != body {
						t.Fatal("hex is not lower case")
					}
				case Base64URL:
					raw, err = base64.RawURLEncoding.Strict().DecodeString(body)
				case Alnum:
					raw = []byte(body)
					if strings.Trim(body, alnumAlphabet) != "" {
						t.Fatal("alnum value has other characters")
					}
				}
				if err != nil || len(raw) != spec.Length {
					t.Fatalf("decoded %d bytes (err %v), want %d", len(raw), err, spec.Length)
				}
				if err := spec.Check(v); err != nil {
					t.Fatalf("Check(generated) = %v", err)
				}
				if seen[s] {
					t.Fatal("duplicate value")
				}
				seen[s] = true
			}
		})
	}
}

func TestGenerateBytesLookRandom(t *testing.T) {
	// A loose sanity check that every bit varies: over 2000 values of 32
	// bytes, each bit position is set in roughly half of them.
	spec := Spec{32, Hex, ""}
	ones := make([]int, 32*8)
	const n = 2000
	for range n {
		v, err := spec.Generate()
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := hex.DecodeString(v.Reveal())
		for i := range ones {
			if raw[i/8]>>(i%8)&1 == 1 {
				ones[i]++
			}
		}
	}
	// mean 1000, sd ≈ 22: 8 sd either way never happens by chance.
	for i, c := range ones {
		if c < 820 || c > 1180 {
			t.Errorf("bit %d set in %d of %d values", i, c, n)
		}
	}
}

// chiSquare returns Pearson's statistic of counts against a uniform
// distribution.
func chiSquare(counts map[byte]int, symbols, total int) float64 {
	expected := float64(total) / float64(symbols)
	var x float64
	for i := range symbols {
		d := float64(counts[alnumAlphabet[i]]) - expected
		x += d * d / expected
	}
	return x
}

// chiSquareBound is far beyond the 61-degree-of-freedom statistic's mean
// (61, sd ≈ 11): p < 1e-12 for a uniform source, yet the modulo bias that
// rejection sampling avoids exceeds it many times over.
const chiSquareBound = 200

func TestAlnumUniform(t *testing.T) {
	spec := Spec{1000, Alnum, ""}
	counts := map[byte]int{}
	total := 0
	for range 200 {
		v, err := spec.Generate()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range v.RevealBytes() {
			counts[c]++
			total++
		}
	}
	if len(counts) != len(alnumAlphabet) {
		t.Fatalf("%d distinct symbols, want %d", len(counts), len(alnumAlphabet))
	}
	if x := chiSquare(counts, len(alnumAlphabet), total); x > chiSquareBound {
		t.Errorf("chi-square %.1f over %d characters exceeds %d: not uniform", x, total, chiSquareBound)
	}
}

func TestAlnumUniformTestDetectsModuloBias(t *testing.T) {
	// The same sample size drawn with a plain b%62 must fail the bound, or
	// TestAlnumUniform proves nothing.
	counts := map[byte]int{}
	buf := make([]byte, 200*1000)
	_, _ = rand.Read(buf)
	for _, b := range buf {
		counts[alnumAlphabet[int(b)%len(alnumAlphabet)]]++
	}
	if x := chiSquare(counts, len(alnumAlphabet), len(buf)); x <= chiSquareBound {
		t.Errorf("biased sample has chi-square %.1f ≤ %d", x, chiSquareBound)
	}
}

func TestCheck(t *testing.T) {
	tests := []struct {
		spec  Spec
		value string
		ok    bool
	}{
		{Spec{16, Hex, ""}, strings.Repeat("ab", 16), true},
		{Spec{16, Hex, ""}, strings.Repeat("AB", 16), false},
		{Spec{16, Hex, ""}, strings.Repeat("ab", 17), false},
		{Spec{16, Hex, ""}, strings.Repeat("ab", 15) + "a", false},
		{Spec{16, Hex, ""}, strings.Repeat("zz", 16), false},
		{Spec{16, Hex, "p_"}, strings.Repeat("ab", 16), false},
		{Spec{16, Hex, "p_"}, "p_" + strings.Repeat("ab", 16), true},
		{Spec{16, Base64URL, ""}, base64.RawURLEncoding.EncodeToString(make([]byte, 16)), true},
		{Spec{16, Base64URL, ""}, base64.URLEncoding.EncodeToString(make([]byte, 16)), false}, // padded
		{Spec{16, Base64URL, ""}, base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\xfb", 16))), false},
		{Spec{16, Base64URL, ""}, base64.RawURLEncoding.EncodeToString(make([]byte, 17)), false},
		{Spec{22, Alnum, ""}, strings.Repeat("aZ9", 7) + "x", true},
		{Spec{22, Alnum, ""}, strings.Repeat("aZ9", 7), false},
		{Spec{22, Alnum, ""}, strings.Repeat("aZ9", 7) + "-", false},
		{Spec{22, Alnum, ""}, "", false},
	}
	for _, tt := range tests {
		err := tt.spec.Check(secret.New(tt.value))
		if (err == nil) != tt.ok {
			t.Errorf("%+v.Check(%q) = %v, want ok=%v", tt.spec, tt.value, err, tt.ok)
		}
		if err != nil {
			if !errors.Is(err, ErrShape) {
				t.Errorf("error %v does not wrap ErrShape", err)
			}
			if tt.value != "" && strings.Contains(err.Error(), tt.value) {
				t.Errorf("error %q contains the value", err)
			}
		}
	}
}

func TestProviderMethods(t *testing.T) {
	p, err := New(provider.Settings{"prefix": "whsec_"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := p.Create(ctx, provider.CreateRequest{RotationID: "r"}); !errors.Is(err, ErrNoPending) {
		t.Errorf("Create without Pending = %v, want ErrNoPending", err)
	}
	v, err := p.(provider.Generator).Generate()
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Create(ctx, provider.CreateRequest{RotationID: "r", Pending: v})
	if err != nil || !c.Value.Equal(v) {
		t.Fatalf("Create = %v, %v", c, err)
	}
	if err := p.Test(ctx, c); err != nil {
		t.Errorf("Test(created) = %v", err)
	}
	if err := p.Test(ctx, provider.Credential{Value: secret.New("whsec_short")}); err == nil {
		t.Error("Test accepted a value of the wrong length")
	}
	if err := p.Revoke(ctx, c); err != nil {
		t.Errorf("Revoke = %v", err)
	}
}

// harness: the application is the source, and it accepts whatever its
// environment holds; revocation is the engine removing NAME_PREVIOUS.
type harness struct{ spec Spec }

func (h harness) Current(ctx context.Context, t *testing.T) provider.Credential {
	v, err := h.spec.Generate()
	if err != nil {
		t.Fatal(err)
	}
	return provider.Credential{Value: v}
}

func (harness) Works(context.Context, *testing.T, provider.Credential) bool { return true }
func (harness) AppManaged()                                                 {}

func TestSuite(t *testing.T) {
	for _, settings := range []provider.Settings{
		nil,
		{"encoding": "hex", "prefix": "whsec_"},
		{"encoding": "alnum", "length": 40},
	} {
		p, err := New(settings)
		if err != nil {
			t.Fatal(err)
		}
		spec := p.(*Provider).Spec()
		t.Run(string(spec.Encoding), func(t *testing.T) {
			providertest.Run(t, func(t *testing.T) provider.Provider { return p }, harness{spec})
		})
	}
}
