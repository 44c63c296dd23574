package exec

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/slickenv/slickenv/internal/provider"
	"github.com/slickenv/slickenv/internal/provider/providertest"
	"github.com/slickenv/slickenv/internal/secret"
)

// credentialScript is a credential "source" kept in files: $STATE/valid
// lists the credentials it accepts, one a line; $STATE/rot-<id> remembers
// what create made for a rotation id, so that create is idempotent. Its
// failures echo the value to stderr, as careless scripts do.
const credentialScript = `
state="$STATE"
value=$(cat)
case "$1" in
create)
	rid="$SLICKENV_ROTATION_ID"
	[ -n "$rid" ] || { echo "no rotation id" >&2; exit 2; }
	if [ -f "$state/rot-$rid" ]; then
		new=$(cat "$state/rot-$rid")
	elif [ -n "${SLICKENV_NEW_VALUE+set}" ]; then
		new="$SLICKENV_NEW_VALUE"
	else
		new="tok_$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	fi
	printf '%s' "$new" > "$state/rot-$rid"
	grep -qxF -- "$new" "$state/valid" 2>/dev/null || printf '%s\n' "$new" >> "$state/valid"
	if [ -n "${SLICKENV_NEW_VALUE+set}" ]; then
		printf '{"meta":{"rotation":"%s"}}\n' "$rid"
	else
		printf '{"value":"%s","meta":{"rotation":"%s"}}\n' "$new" "$rid"
	fi
	;;
test)
	grep -qxF -- "$value" "$state/valid" || { echo "rejected credential $value" >&2; exit 1; }
	;;
revoke)
	# Idempotent: revoking an unknown credential succeeds.
	touch "$state/valid"
	grep -vxF -- "$value" "$state/valid" > "$state/valid.new" || true
	mv "$state/valid.new" "$state/valid"
	;;
esac
`

type fileHarness struct{ state string }

func (h fileHarness) Current(ctx context.Context, t *testing.T) provider.Credential {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	v := "cur_" + hex.EncodeToString(b)
	f, err := os.OpenFile(filepath.Join(h.state, "valid"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(v + "\n"); err != nil {
		t.Fatal(err)
	}
	return provider.Credential{Value: secret.New(v), Meta: map[string]string{"origin": "harness"}}
}

func (h fileHarness) Works(ctx context.Context, t *testing.T, c provider.Credential) bool {
	f, err := os.Open(filepath.Join(h.state, "valid"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if sc.Text() == c.Value.Reveal() {
			return true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return false
}

func TestSuite(t *testing.T) {
	for _, generate := range []bool{false, true} {
		name := "script-made"
		if generate {
			name = "generated"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cred := script(t, dir, "cred.sh", credentialScript)
			settings := provider.Settings{
				"create": []any{cred, "create"},
				"test":   []any{cred, "test"},
				"revoke": []any{cred, "revoke"},
				"env":    map[string]any{"STATE": dir},
			}
			if generate {
				settings["generate"] = map[string]any{"prefix": "gen_"}
			}
			providertest.Run(t, func(t *testing.T) provider.Provider { return newProvider(t, settings) }, fileHarness{dir})
		})
	}
}
