package crypto

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func fakeEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeFile(t *testing.T, path string, id *Identity, perm os.FileMode) {
	t.Helper()
	text, err := id.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, text, perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // umask may have narrowed it
		t.Fatal(err)
	}
}

func TestLoadIdentityPrecedence(t *testing.T) {
	envID, fileID, defaultID := mustIdentity(t), mustIdentity(t), mustIdentity(t)
	dir := t.TempDir()
	configDir := filepath.Join(dir, "config")
	defaultPath := filepath.Join(configDir, "identity")
	filePath := filepath.Join(dir, "ci-identity")
	writeFile(t, defaultPath, defaultID, 0o600)
	writeFile(t, filePath, fileID, 0o400)
	envKey := envID.x.String()

	tests := []struct {
		name       string
		env        map[string]string
		configDir  string
		want       *Identity
		wantSource string
		wantErr    error
	}{
		{"env var beats all", map[string]string{EnvIdentity: envKey, EnvIdentityFile: filePath}, configDir, envID, "env SLICKENV_IDENTITY", nil},
		{"env var with file contents", map[string]string{EnvIdentity: "# comment\n" + envKey + "\n"}, configDir, envID, "env SLICKENV_IDENTITY", nil},
		{"file var beats default", map[string]string{EnvIdentityFile: filePath}, configDir, fileID, filePath, nil},
		{"default file", nil, configDir, defaultID, defaultPath, nil},
		{"XDG dir without identity", map[string]string{"XDG_CONFIG_HOME": dir, "HOME": "/nonexistent"}, "", nil, "", ErrNoIdentity},
		{"missing", nil, t.TempDir(), nil, "", ErrNoIdentity},
		{"file var missing", map[string]string{EnvIdentityFile: filepath.Join(dir, "nope")}, configDir, nil, "", ErrNoIdentity},
		{"malformed env var does not fall through", map[string]string{EnvIdentity: "AGE-SECRET-KEY-1NOPE"}, configDir, nil, "", ErrMalformedIdentity},
		{"no config dir at all", nil, "", nil, "", ErrNoIdentity},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, source, err := LoadIdentity(IdentityOptions{Getenv: fakeEnv(tt.env), ConfigDir: tt.configDir})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("error = %v, want %v", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), envKey) {
					t.Errorf("error quotes the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Recipient() != tt.want.Recipient() {
				t.Errorf("loaded %s, want %s", got.Recipient(), tt.want.Recipient())
			}
			if source != tt.wantSource {
				t.Errorf("source = %q, want %q", source, tt.wantSource)
			}
		})
	}
}

func TestLoadIdentityXDG(t *testing.T) {
	xdg := t.TempDir()
	id := mustIdentity(t)
	path := filepath.Join(xdg, "slickenv", "identity")
	writeFile(t, path, id, 0o600)
	got, source, err := LoadIdentity(IdentityOptions{Getenv: fakeEnv(map[string]string{"XDG_CONFIG_HOME": xdg})})
	if err != nil {
		t.Fatal(err)
	}
	if source != path || got.Recipient() != id.Recipient() {
		t.Errorf("got %s from %s, want %s from %s", got, source, id, path)
	}
}

func TestLoadIdentityMissingNamesWhereItLooked(t *testing.T) {
	dir := t.TempDir()
	_, _, err := LoadIdentity(IdentityOptions{Getenv: fakeEnv(nil), ConfigDir: dir})
	if !errors.Is(err, ErrNoIdentity) {
		t.Fatalf("error = %v", err)
	}
	for _, want := range []string{EnvIdentity, EnvIdentityFile, filepath.Join(dir, "identity")} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %s", err, want)
		}
	}
}

func TestLoadIdentityInsecurePermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no Unix permission bits on Windows")
	}
	for _, perm := range []os.FileMode{0o644, 0o640, 0o604, 0o660, 0o602} {
		dir := t.TempDir()
		path := filepath.Join(dir, "identity")
		id := mustIdentity(t)
		writeFile(t, path, id, perm)
		for name, opts := range map[string]IdentityOptions{
			"default file": {Getenv: fakeEnv(nil), ConfigDir: dir},
			"file var":     {Getenv: fakeEnv(map[string]string{EnvIdentityFile: path})},
		} {
			_, _, err := LoadIdentity(opts)
			if !errors.Is(err, ErrInsecureIdentityFile) {
				t.Errorf("%s, mode %04o: error = %v, want ErrInsecureIdentityFile", name, perm, err)
				continue
			}
			if !strings.Contains(err.Error(), "chmod 600 "+path) {
				t.Errorf("error %q does not say how to fix it", err)
			}
			if strings.Contains(err.Error(), id.x.String()) {
				t.Errorf("error quotes the key")
			}
		}
	}
}

func TestLoadIdentityNotRegular(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "identity"), 0o700); err != nil {
		t.Fatal(err)
	}
	_, _, err := LoadIdentity(IdentityOptions{Getenv: fakeEnv(nil), ConfigDir: dir})
	if err == nil || errors.Is(err, ErrNoIdentity) {
		t.Fatalf("error = %v, want a not-a-regular-file error", err)
	}
}

func TestDefaultConfigDir(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    string
		wantErr bool
	}{
		{"xdg", map[string]string{"XDG_CONFIG_HOME": "/x/cfg", "HOME": "/home/u"}, filepath.FromSlash("/x/cfg/slickenv"), false},
		{"home", map[string]string{"HOME": "/home/u"}, filepath.FromSlash("/home/u/.config/slickenv"), false},
		{"relative xdg ignored", map[string]string{"XDG_CONFIG_HOME": "cfg", "HOME": "/home/u"}, filepath.FromSlash("/home/u/.config/slickenv"), false},
		{"nothing", nil, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if runtime.GOOS == "windows" && tt.want != "" {
				t.Skip("Unix paths")
			}
			got, err := DefaultConfigDir(fakeEnv(tt.env))
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Errorf("DefaultConfigDir = %q, %v; want %q, error %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestIdentityPath(t *testing.T) {
	got, err := IdentityPath(IdentityOptions{ConfigDir: "/c"})
	if err != nil || got != filepath.Join("/c", "identity") {
		t.Errorf("IdentityPath = %q, %v", got, err)
	}
	got, err = IdentityPath(IdentityOptions{Getenv: fakeEnv(map[string]string{"HOME": "/h"})})
	if err != nil || got != filepath.Join("/h", ".config", "slickenv", "identity") {
		t.Errorf("IdentityPath = %q, %v", got, err)
	}
}

func TestWriteIdentityFile(t *testing.T) {
	dir := t.TempDir()
	configDir := filepath.Join(dir, "a", "slickenv")
	path := filepath.Join(configDir, "identity")
	id := mustIdentity(t)
	if err := WriteIdentityFile(path, id); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("file mode = %04o, want 0600", perm)
		}
		dinfo, err := os.Stat(configDir)
		if err != nil {
			t.Fatal(err)
		}
		if perm := dinfo.Mode().Perm(); perm != 0o700 {
			t.Errorf("dir mode = %04o, want 0700", perm)
		}
	}
	got, source, err := LoadIdentity(IdentityOptions{Getenv: fakeEnv(nil), ConfigDir: configDir})
	if err != nil {
		t.Fatal(err)
	}
	if got.Recipient() != id.Recipient() || source != path {
		t.Errorf("loaded %s from %s", got, source)
	}

	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	err = WriteIdentityFile(path, mustIdentity(t))
	if !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second write: error = %v, want fs.ErrExist", err)
	}
	after, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Error("existing identity file was modified")
	}

	if err := WriteIdentityFile(filepath.Join(dir, "nil"), nil); err == nil {
		t.Error("writing a nil identity succeeded")
	}
	if _, err := os.Stat(filepath.Join(dir, "nil")); !errors.Is(err, fs.ErrNotExist) {
		t.Error("failed write left a file behind")
	}
}
