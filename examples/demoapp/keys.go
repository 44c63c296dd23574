package demoapp

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/slickenv/slickenv/internal/dotenv"
)

// Names of the variables holding the signing keys, and of the header carrying
// a request's signature.
const (
	SecretVar         = "WEBHOOK_SECRET"
	PreviousSecretVar = "WEBHOOK_SECRET_PREVIOUS"
	SignatureHeader   = "X-Signature"
)

// signaturePrefix names the algorithm in the X-Signature header.
const signaturePrefix = "sha256="

// Sign returns the X-Signature header value for body signed with secret:
// "sha256=" and the hex HMAC-SHA256.
func Sign(secret, body []byte) string {
	return signaturePrefix + hex.EncodeToString(mac(secret, body))
}

func mac(secret, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return m.Sum(nil)
}

// keySet is one immutable generation of accepted keys, newest first.
type keySet struct {
	keys       [][]byte
	loadedAt   time.Time
	generation int64
}

// verify reports whether signature (an X-Signature header value) is a valid
// signature of body under one of the keys. Each comparison is constant-time.
func (k *keySet) verify(body []byte, signature string) bool {
	hexSum, ok := strings.CutPrefix(signature, signaturePrefix)
	if !ok {
		return false
	}
	sum, err := hex.DecodeString(hexSum)
	if err != nil || len(sum) != sha256.Size {
		return false
	}
	valid := false
	for _, key := range k.keys {
		// No early return: the time taken does not tell which key matched.
		if hmac.Equal(sum, mac(key, body)) {
			valid = true
		}
	}
	return valid
}

// errNoSecret is returned when the source defines no WEBHOOK_SECRET.
var errNoSecret = errors.New(SecretVar + " is not set")

// readKeys reads WEBHOOK_SECRET and, when set and non-empty,
// WEBHOOK_SECRET_PREVIOUS from envFile, or from the process environment when
// envFile is "". Errors never contain a value. (Copying this outside
// slickenv? Any .env parser will do in place of dotenv.Parse.)
func readKeys(envFile string) ([][]byte, error) {
	lookup := os.LookupEnv
	if envFile != "" {
		data, err := os.ReadFile(envFile)
		if err != nil {
			return nil, err
		}
		entries, err := dotenv.Parse(data, dotenv.ParseOptions{Filename: envFile})
		if err != nil {
			return nil, err
		}
		vars := make(map[string]string, len(entries))
		for _, e := range entries {
			vars[e.Key] = e.Value
		}
		lookup = func(name string) (string, bool) { v, ok := vars[name]; return v, ok }
	}
	current, _ := lookup(SecretVar)
	if current == "" {
		if envFile != "" {
			return nil, fmt.Errorf("%s: %w", envFile, errNoSecret)
		}
		return nil, errNoSecret
	}
	keys := [][]byte{[]byte(current)}
	if previous, _ := lookup(PreviousSecretVar); previous != "" && previous != current {
		keys = append(keys, []byte(previous))
	}
	return keys, nil
}
