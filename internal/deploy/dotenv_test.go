package deploy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/slickenv/slickenv/internal/secret"
)

func values(kv ...string) map[string]secret.Value {
	m := make(map[string]secret.Value)
	for i := 0; i < len(kv); i += 2 {
		m[kv[i]] = secret.New(kv[i+1])
	}
	return m
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func checkMode(t *testing.T, path string) {
	t.Helper()
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("%s has mode %v, want 0600", path, info.Mode().Perm())
	}
}

// checkNoTemp fails when dir holds anything but the names in want.
func checkNoTemp(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Fatalf("%s holds %q, want %q", dir, names, want)
	}
}

func TestDotenvDeploy(t *testing.T) {
	const before = "# shop settings\r\nexport DATABASE_URL=\"postgres://old\" # rotated by slickenv\r\n\r\n" +
		"TLS_KEY=\"-----BEGIN\r\nold\r\n-----END\"\r\nPORT=8080\r\nOLD_TOKEN='x' # gone\r\n"
	const after = "# shop settings\r\nexport DATABASE_URL='postgres://new?a=1&b=2' # rotated by slickenv\r\n\r\n" +
		"PORT=8080\r\nWEBHOOK_SECRET=whsec_1\r\n"
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	if err := os.WriteFile(path, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	target := NewDotenv(path)
	if got := target.Describe(); got != "dotenv "+path {
		t.Errorf("Describe() = %q", got)
	}
	req := Request{
		RotationID: "r1", Env: "production", Version: 42,
		Set:   values("DATABASE_URL", "postgres://new?a=1&b=2", "WEBHOOK_SECRET", "whsec_1"),
		Unset: []string{"TLS_KEY", "OLD_TOKEN", "NEVER_SET"},
	}
	if err := target.Deploy(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != after {
		t.Fatalf("after deploy:\n got %q\nwant %q", got, after)
	}
	checkMode(t, path)
	checkNoTemp(t, dir, ".env")

	// Idempotent, and an unchanged file is not even rewritten.
	info1, _ := os.Stat(path)
	if err := target.Deploy(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, path); got != after {
		t.Fatalf("after second deploy:\n got %q\nwant %q", got, after)
	}
	info2, _ := os.Stat(path)
	if !os.SameFile(info1, info2) || !info1.ModTime().Equal(info2.ModTime()) {
		t.Error("second identical deploy replaced the file")
	}
	checkNoTemp(t, dir, ".env")
}

func TestDotenvCreatesMissingFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.env")
	err := NewDotenv(path).Deploy(context.Background(), Request{Set: values("B", "two words", "A", "1"), Unset: []string{"C"}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := readFile(t, path), "A=1\nB='two words'\n"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	checkMode(t, path)
	checkNoTemp(t, dir, "app.env")
}

func TestDotenvFixesMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte("A=1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil { // regardless of umask
		t.Fatal(err)
	}
	// Nothing to change in the content, but the mode is wrong.
	if err := NewDotenv(path).Deploy(context.Background(), Request{Set: values("A", "1")}); err != nil {
		t.Fatal(err)
	}
	checkMode(t, path)
	if got := readFile(t, path); got != "A=1\n" {
		t.Fatalf("content changed: %q", got)
	}
}

func TestDotenvFollowsSymlink(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.env")
	link := filepath.Join(dir, ".env")
	if err := os.WriteFile(real, []byte("A=1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("real.env", link); err != nil {
		t.Fatal(err)
	}
	if err := NewDotenv(link).Deploy(context.Background(), Request{Set: values("A", "2")}); err != nil {
		t.Fatal(err)
	}
	if info, err := os.Lstat(link); err != nil || info.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("link replaced: %v %v", info, err)
	}
	if got := readFile(t, real); got != "A=2\n" {
		t.Fatalf("target file: %q", got)
	}

	dangling := filepath.Join(dir, "dangling.env")
	if err := os.Symlink("missing/x.env", dangling); err != nil {
		t.Fatal(err)
	}
	err := NewDotenv(dangling).Deploy(context.Background(), Request{Set: values("A", "2")})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("dangling link: %v", err)
	}
}

func TestDotenvKeepsOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root can give a file to another user")
	}
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte("A=1\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, 4321, 4322); err != nil {
		t.Fatal(err)
	}
	if err := NewDotenv(path).Deploy(context.Background(), Request{Set: values("A", "2")}); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := info.Sys().(*syscall.Stat_t)
	if st.Uid != 4321 || st.Gid != 4322 {
		t.Fatalf("owner %d:%d, want 4321:4322", st.Uid, st.Gid)
	}
	checkMode(t, path)
}

func TestDotenvFailedWriteLeavesFileIntact(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	const before = "# keep me\nA=old\n"
	if err := os.WriteFile(path, []byte(before), 0o600); err != nil {
		t.Fatal(err)
	}
	target := NewDotenv(path).(*dotenvTarget)
	target.write = func(f *os.File, data []byte) error {
		if _, err := f.Write(data[:len(data)/2]); err != nil {
			return err
		}
		return errors.New("disk full")
	}
	err := target.Deploy(context.Background(), Request{Set: values("A", "new-secret-value")})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("Deploy error = %v, want the write failure", err)
	}
	if strings.Contains(err.Error(), "new-secret-value") {
		t.Fatalf("error leaks the value: %v", err)
	}
	if got := readFile(t, path); got != before {
		t.Fatalf("file changed after a failed write: %q", got)
	}
	checkNoTemp(t, dir, ".env")
}

func TestDotenvRefusesMalformedFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	const before = "A=1\nB='secret-value-unterminated\n"
	if err := os.WriteFile(path, []byte(before), 0o600); err != nil {
		t.Fatal(err)
	}
	err := NewDotenv(path).Deploy(context.Background(), Request{Set: values("A", "2")})
	if err == nil || !strings.Contains(err.Error(), path+":2:3: unterminated single-quoted value of key B") {
		t.Fatalf("error = %v", err)
	}
	if strings.Contains(err.Error(), "secret-value") {
		t.Fatalf("error leaks a value: %v", err)
	}
	if got := readFile(t, path); got != before {
		t.Fatalf("malformed file changed: %q", got)
	}
	checkNoTemp(t, dir, ".env")
}

func TestDotenvMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no-such-dir", ".env")
	if err := NewDotenv(path).Deploy(context.Background(), Request{Set: values("A", "1")}); err == nil {
		t.Fatal("Deploy into a missing directory succeeded")
	}
}

// TestDotenvConcurrentDeploys checks that deploys of different keys to one
// file do not lose each other's change.
func TestDotenvConcurrentDeploys(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	if err := os.WriteFile(path, []byte("# shared\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys := []string{"A", "B", "C", "D", "E", "F", "G", "H"}
	var wg sync.WaitGroup
	errs := make(chan error, len(keys))
	for _, k := range keys {
		wg.Go(func() {
			errs <- NewDotenv(path).Deploy(context.Background(), Request{Set: values(k, "v"+k)})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	got := readFile(t, path)
	for _, k := range keys {
		if !strings.Contains(got, "\n"+k+"=v"+k+"\n") {
			t.Errorf("lost %s: %q", k, got)
		}
	}
	checkNoTemp(t, dir, ".env")
}

func TestDotenvCanceled(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := NewDotenv(path).Deploy(ctx, Request{Set: values("A", "1")}); !errors.Is(err, context.Canceled) {
		t.Fatalf("error = %v, want context.Canceled", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("canceled deploy created the file")
	}
}
