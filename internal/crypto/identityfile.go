package crypto

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// Environment variables LoadIdentity reads, in order of precedence.
const (
	// EnvIdentity holds the secret key itself ("AGE-SECRET-KEY-1…") or a
	// whole identity file's contents. Meant for CI.
	EnvIdentity = "SLICKENV_IDENTITY"
	// EnvIdentityFile holds the path of an identity file.
	EnvIdentityFile = "SLICKENV_IDENTITY_FILE"
)

// IdentityFileName is the identity file's name inside the config directory.
const IdentityFileName = "identity"

// IdentityOptions says where LoadIdentity looks. The zero value means "use the
// process environment and the default config directory".
type IdentityOptions struct {
	// Getenv reads environment variables; nil means os.Getenv.
	Getenv func(string) string
	// ConfigDir is the slickenv config directory itself (the identity file is
	// ConfigDir/identity). Empty means DefaultConfigDir(Getenv).
	ConfigDir string
}

func (o IdentityOptions) getenv() func(string) string {
	if o.Getenv == nil {
		return os.Getenv
	}
	return o.Getenv
}

// IdentityPath returns the default identity file path for opts:
// ConfigDir/identity, with ConfigDir defaulting to DefaultConfigDir. It does
// not look at SLICKENV_IDENTITY or SLICKENV_IDENTITY_FILE; it is where
// `slickenv init` creates an identity.
func IdentityPath(opts IdentityOptions) (string, error) {
	dir := opts.ConfigDir
	if dir == "" {
		var err error
		if dir, err = DefaultConfigDir(opts.getenv()); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, IdentityFileName), nil
}

// DefaultConfigDir returns $XDG_CONFIG_HOME/slickenv, or $HOME/.config/slickenv
// when XDG_CONFIG_HOME is unset or not absolute (as the XDG spec requires), on
// every OS. getenv nil means os.Getenv. It fails only when neither variable is
// usable.
func DefaultConfigDir(getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if xdg := getenv("XDG_CONFIG_HOME"); xdg != "" && filepath.IsAbs(xdg) {
		return filepath.Join(xdg, "slickenv"), nil
	}
	if home := getenv("HOME"); home != "" {
		return filepath.Join(home, ".config", "slickenv"), nil
	}
	return "", errors.New("config dir: neither XDG_CONFIG_HOME nor HOME is set")
}

// LoadIdentity loads the identity from, in order: the SLICKENV_IDENTITY
// variable, the file named by SLICKENV_IDENTITY_FILE, the default identity
// file (see IdentityPath). The first source that is set wins; a source that is
// set but broken is an error, never a reason to fall through to the next.
//
// It returns the identity and a description of its source: "env
// SLICKENV_IDENTITY", or the path of the file read.
//
// Errors:
//   - nothing configured and no default file: ErrNoIdentity, naming where it
//     looked;
//   - SLICKENV_IDENTITY_FILE names a missing file: ErrNoIdentity and
//     fs.ErrNotExist;
//   - a file with group or other permission bits: ErrInsecureIdentityFile,
//     with the chmod command that fixes it (not checked on Windows);
//   - unparsable contents: ErrMalformedIdentity.
func LoadIdentity(opts IdentityOptions) (*Identity, string, error) {
	getenv := opts.getenv()
	if s := getenv(EnvIdentity); s != "" {
		const source = "env " + EnvIdentity
		id, err := ParseIdentity(s)
		if err != nil {
			return nil, "", fmt.Errorf("load identity from %s: %w", source, err)
		}
		return id, source, nil
	}
	if path := getenv(EnvIdentityFile); path != "" {
		id, err := readIdentityFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, "", fmt.Errorf("load identity: %w: %s names %s, which does not exist (%w)", ErrNoIdentity, EnvIdentityFile, path, fs.ErrNotExist)
		}
		if err != nil {
			return nil, "", err
		}
		return id, path, nil
	}
	path, err := IdentityPath(opts)
	if err != nil {
		return nil, "", fmt.Errorf("load identity: %w: %s and %s are unset and %w", ErrNoIdentity, EnvIdentity, EnvIdentityFile, err)
	}
	id, err := readIdentityFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("load identity: %w: %s and %s are unset and %s does not exist", ErrNoIdentity, EnvIdentity, EnvIdentityFile, path)
	}
	if err != nil {
		return nil, "", err
	}
	return id, path, nil
}

// readIdentityFile reads and parses an identity file, refusing one that others
// can access. The permission check uses the opened file, not the path, so the
// file checked is the file read.
func readIdentityFile(path string) (*Identity, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load identity from %s: %w", path, err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("load identity from %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("load identity from %s: not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("load identity from %s: %w (mode %04o); fix it with: chmod 600 %s",
			path, ErrInsecureIdentityFile, uint32(perm), path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxIdentitySize+1))
	if err != nil {
		return nil, fmt.Errorf("load identity from %s: %w", path, err)
	}
	id, err := ParseIdentity(string(b))
	if err != nil {
		return nil, fmt.Errorf("load identity from %s: %w", path, err)
	}
	return id, nil
}

// WriteIdentityFile writes id's identity file (see Identity.MarshalText) to
// path with mode 0600, creating missing parent directories with mode 0700. It
// never overwrites: if path exists it fails with an error wrapping
// fs.ErrExist and leaves the file untouched. A failed write removes the
// partial file.
func WriteIdentityFile(path string, id *Identity) error {
	text, err := id.MarshalText()
	if err != nil {
		return fmt.Errorf("write identity %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write identity %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("write identity: %s already exists, refusing to overwrite: %w", path, err)
		}
		return fmt.Errorf("write identity %s: %w", path, err)
	}
	_, err = f.Write(text)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("write identity %s: %w", path, err)
	}
	return nil
}
