package crypto

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/slickenv/slickenv/internal/secret"
)

// renderings returns every way v commonly ends up in text: fmt verbs, JSON
// (directly and as a field), and slog text and JSON handlers.
func renderings(t *testing.T, v any) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		out[verb] = fmt.Sprintf(verb, v)
		out[verb+" in struct"] = fmt.Sprintf(verb, struct{ F any }{v})
	}
	out["Sprint"] = fmt.Sprint(v)
	for name, x := range map[string]any{"json": v, "json field": struct{ F any }{v}} {
		b, err := json.Marshal(x)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out[name] = string(b)
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("msg", "v", v)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("msg", "v", v)
	out["slog"] = buf.String()
	return out
}

func TestIdentityNeverPrintsSecretKey(t *testing.T) {
	id := mustIdentity(t)
	secretKey := id.x.String()
	lowerKey := strings.ToLower(secretKey)
	for _, v := range []any{id, *id} {
		for how, s := range renderings(t, v) {
			if strings.Contains(s, secretKey) || strings.Contains(s, lowerKey) || strings.Contains(s, secretKey[16:]) {
				t.Errorf("%T via %s leaks the secret key: %s", v, how, s)
			}
			if how == "%v" && s != id.Recipient() {
				t.Errorf("%T via %%v = %q, want the recipient", v, s)
			}
		}
	}
}

func TestDEKNeverPrintsKey(t *testing.T) {
	k := mustDEK(t)
	secrets := []string{
		hex.EncodeToString(k.key[:]),
		strings.ToUpper(hex.EncodeToString(k.key[:])),
		string(k.key[:]),
		hex.EncodeToString(k.fpKey[:]),
		fmt.Sprint(k.key[:]), // "[12 34 …]"
	}
	for _, v := range []any{k, *k} {
		for how, s := range renderings(t, v) {
			for _, sec := range secrets {
				if strings.Contains(s, sec) {
					t.Errorf("%T via %s leaks the key: %s", v, how, s)
				}
			}
			if !strings.Contains(s, secret.Redacted) {
				t.Errorf("%T via %s = %q, want it redacted", v, how, s)
			}
		}
	}
}

// Every error of the package, collected from misuse, is free of key material
// and plaintext.
func TestErrorsNeverContainSecrets(t *testing.T) {
	id := mustIdentity(t)
	secretKey := id.x.String()
	k := mustDEK(t)
	plaintext := "sk_live_VERYSECRETVALUE"
	c, err := k.Seal(testSlot, secret.New(plaintext))
	if err != nil {
		t.Fatal(err)
	}
	wrapped, err := WrapDEK(k, id.Recipient())
	if err != nil {
		t.Fatal(err)
	}
	flipped := bytes.Clone(c)
	flipped[len(flipped)-1] ^= 1

	var errs []error
	collect := func(_ any, err error) { errs = append(errs, err) }
	collect(ParseIdentity(secretKey[:len(secretKey)-1]))
	collect(ParseIdentity(secretKey + "\n" + secretKey))
	collect(ParseIdentity(strings.ToLower(secretKey)))
	collect(ParseIdentity(secretKey[:30] + "!" + secretKey[31:]))
	collect(WrapDEK(k, secretKey))
	collect(UnwrapDEK(wrapped, mustIdentity(t)))
	collect(UnwrapDEK(wrapped[:len(wrapped)-1], id))
	collect(k.Open(Slot{"shop", "production", "OTHER"}, c))
	collect(k.Open(testSlot, flipped))
	collect(mustDEK(t).Open(testSlot, c))
	collect(k.OpenBlob("x", c))
	_, _, err = LoadIdentity(IdentityOptions{Getenv: fakeEnv(map[string]string{EnvIdentity: secretKey + "x"})})
	errs = append(errs, err)

	forbidden := []string{secretKey, secretKey[16:40], strings.ToLower(secretKey[16:40]), plaintext, hex.EncodeToString(k.key[:])}
	for i, err := range errs {
		if err == nil {
			t.Errorf("case %d: no error", i)
			continue
		}
		for _, f := range forbidden {
			if strings.Contains(err.Error(), f) {
				t.Errorf("case %d: error leaks secret material: %v", i, err)
			}
		}
	}
}
