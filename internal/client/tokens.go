package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// TokenEnv overrides any saved token.
const TokenEnv = "SLICKENV_TOKEN"

// tokensFile is where `slickenv login` keeps tokens, in the config dir.
const tokensFile = "tokens.json"

// NormalizeURL returns the key under which a server's token is saved: the
// URL without trailing slashes.
func NormalizeURL(u string) string { return strings.TrimRight(u, "/") }

func readTokens(configDir string) (map[string]string, error) {
	b, err := os.ReadFile(filepath.Join(configDir, tokensFile))
	if errors.Is(err, os.ErrNotExist) {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%s: %w", filepath.Join(configDir, tokensFile), err)
	}
	return m, nil
}

// SaveToken saves token for the server at url in configDir/tokens.json
// (0600, replacing any earlier token for that URL).
func SaveToken(configDir, url, token string) error {
	if err := os.MkdirAll(configDir, 0o700); err != nil {
		return err
	}
	m, err := readTokens(configDir)
	if err != nil {
		return err
	}
	m[NormalizeURL(url)] = token
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	path := filepath.Join(configDir, tokensFile)
	tmp, err := os.CreateTemp(configDir, ".tokens-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// LoadToken returns the token to use for the server at url: getenv's
// SLICKENV_TOKEN when set, else the one saved by SaveToken. It returns ""
// and no error when there is none.
func LoadToken(configDir, url string, getenv func(string) string) (string, error) {
	if t := getenv(TokenEnv); t != "" {
		return t, nil
	}
	m, err := readTokens(configDir)
	if err != nil {
		return "", err
	}
	return m[NormalizeURL(url)], nil
}
