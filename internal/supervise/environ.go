package supervise

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/slickenv/slickenv/internal/dotenv"
)

// Environ returns base with pairs added. Pairs override variables of the
// same name, unless preserve is set, in which case variables already in
// base win. The LISTEN_* variables of an enclosing socket activation are
// dropped: they describe the supervisor's own descriptors.
func Environ(base []string, pairs []Pair, preserve bool) []string {
	base = unsetEnv(base, "LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES")
	present := make(map[string]bool, len(base))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		present[k] = true
	}
	out := make([]string, 0, len(base)+len(pairs))
	override := map[string]bool{}
	for _, p := range pairs {
		if preserve && present[p.Name] {
			continue
		}
		override[p.Name] = true
		out = append(out, p.Name+"="+p.Value.Reveal())
	}
	for _, kv := range base {
		if k, _, _ := strings.Cut(kv, "="); !override[k] {
			out = append(out, kv)
		}
	}
	return out
}

// WriteEnvFile replaces path with pairs in dotenv format, atomically (a
// temporary file in the same directory, mode 0600, renamed over path), so a
// reader sees the old file or the new one, never a mix. Errors name the
// file, never a value.
func WriteEnvFile(path string, pairs []Pair) error {
	entries := make([]dotenv.Entry, len(pairs))
	for i, p := range pairs {
		entries[i] = dotenv.Entry{Key: p.Name, Value: p.Value.Reveal()}
	}
	var buf bytes.Buffer
	if err := dotenv.Write(&buf, dotenv.FormatDotenv, entries); err != nil {
		return fmt.Errorf("write env file %s: %w", path, err)
	}
	if err := replaceFile(path, buf.Bytes()); err != nil {
		return fmt.Errorf("write env file %s: %w", path, err)
	}
	return nil
}

// replaceFile writes data to a 0600 temporary file next to path and renames
// it over path.
func replaceFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
