package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestLockedStore holds a write transaction open on the store file, as
// another process would: writes give up after SLICKENV_LOCK_TIMEOUT with
// exit 4 and a clear message, and succeed once the lock is released.
func TestLockedStore(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	p.mustRun("", "set", "A=1")
	before := p.mustRun("", "history", "--json")

	ctx := context.Background()
	conn, err := openDB(t, p.storePath()).Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	locked := true
	unlock := func() {
		if locked {
			if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
				t.Fatal(err)
			}
			locked = false
		}
	}
	defer unlock()

	q := p.with("SLICKENV_LOCK_TIMEOUT=300ms")
	for _, args := range [][]string{
		{"set", "A=2"},
		{"unset", "A"},
		{"rollback", "--to", "0"},
		{"get", "A"}, // a reveal appends an audit entry: a write
	} {
		start := time.Now()
		r := q.expect(4, []string{
			"slickenv: error: ",
			"store is locked by another process",
			p.storePath(),
			"slickenv: hint: another slickenv process held the store too long; run the command again",
		}, "", args...)
		if r.stdout != "" {
			t.Errorf("%v printed %q while locked", args, r.stdout)
		}
		if d := time.Since(start); d > 4500*time.Millisecond { // the default would be 5s
			t.Errorf("%v took %v with a 300ms lock timeout", args, d)
		}
	}
	// Reads that reveal nothing still work while another process writes.
	q.mustRun("", "list")
	if got := q.mustRun("", "history", "--json"); got != before {
		t.Errorf("history changed while locked:\n%s\nwant\n%s", got, before)
	}

	// A writer waits for the lock (up to the timeout) instead of failing.
	cmd := p.with("SLICKENV_LOCK_TIMEOUT=10s").command("", "set", "A=3")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	unlock()
	r := finish(t, cmd, cmd.Wait(), &stdout, &stderr)
	if r.code != 0 || r.stdout != "development: v1 → v2 (1 changed)\n" {
		t.Errorf("set after the lock was released: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if got := p.mustRun("", "get", "-n", "A"); got != "3" {
		t.Errorf("A = %q, want 3", got)
	}

	// A bad knob is an error, not a silent default.
	p.with("SLICKENV_LOCK_TIMEOUT=soon").expect(1, []string{
		`slickenv: error: invalid SLICKENV_LOCK_TIMEOUT "soon"`, "slickenv: hint: ",
	}, "", "list")
}

// TestCorruptStoreRandomBytes: a store file of random bytes (and a file
// that only starts like SQLite) is reported as corrupted, with exit 1,
// and left untouched.
func TestCorruptStoreRandomBytes(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	random := make([]byte, 8192)
	rand.Read(random)
	header := append([]byte("SQLite format 3\x00"), random[:4080]...)
	for name, data := range map[string][]byte{"random.db": random, "header.db": header} {
		path := filepath.Join(p.root, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		q := p.with("SLICKENV_STORE=" + path)
		for _, args := range [][]string{{"list"}, {"set", "A=1"}, {"get", "A"}, {"audit", "verify"}, {"history"}} {
			r := q.expect(1, []string{"slickenv: error: store " + path + ": ", "slickenv: hint: restore the store file from a backup"}, "", args...)
			if !strings.Contains(r.stderr, "corrupt") && !strings.Contains(r.stderr, "not a slickenv store") {
				t.Errorf("%s %v: stderr %q does not say the store is corrupted", name, args, r.stderr)
			}
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data) {
			t.Errorf("%s was modified", name)
		}
		for _, suffix := range []string{"-wal", "-shm", "-journal"} {
			if _, err := os.Stat(path + suffix); err == nil {
				t.Errorf("%s%s was created", name, suffix)
			}
		}
	}
}

// TestForeignDatabase: a SQLite database that is not a slickenv store is
// never taken over.
func TestForeignDatabase(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	path := filepath.Join(p.root, "other.db")
	db := openDB(t, path)
	if _, err := db.Exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	before, _ := os.ReadFile(path)
	p.with("SLICKENV_STORE="+path).expect(1, []string{"slickenv: error: store " + path + ": ", "not a slickenv store"}, "", "set", "A=1")
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		// sqlstore.OpenSQLite sets journal_mode(WAL) in the DSN, which
		// rewrites the file header before migrate refuses the file.
		t.Error("the foreign database was modified (switched to WAL mode?)")
	}
}

// TestTamperedCiphertext: a ciphertext changed in the store fails to open
// with a clear error, and so does one moved to another variable's slot.
func TestTamperedCiphertext(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	p.mustRun("", "set", "A=alpha", "B=bravo")
	db := openDB(t, p.storePath())
	if _, err := db.Exec(`UPDATE value_versions SET ciphertext = (SELECT ciphertext FROM value_versions WHERE name = 'A') WHERE name = 'B'`); err != nil {
		t.Fatal(err)
	}
	var ct []byte
	if err := db.QueryRow(`SELECT ciphertext FROM value_versions WHERE name = 'A'`).Scan(&ct); err != nil {
		t.Fatal(err)
	}
	ct[len(ct)-1] ^= 1
	if _, err := db.Exec(`UPDATE value_versions SET ciphertext = ? WHERE name = 'A'`, ct); err != nil {
		t.Fatal(err)
	}
	db.Close()
	hint := "slickenv: hint: a stored ciphertext was modified outside slickenv"
	for _, name := range []string{"A", "B"} {
		r := p.expect(1, []string{"slickenv: error: decrypt " + name + " (v1): ", "ciphertext failed authentication", hint}, "", "get", name)
		if r.stdout != "" {
			t.Errorf("get %s printed %q", name, r.stdout)
		}
	}
	for _, args := range [][]string{{"export"}, {"run", "--", "true"}} {
		r := p.expect(1, []string{"ciphertext failed authentication", hint}, "", args...)
		if strings.Contains(r.stdout, "alpha") || strings.Contains(r.stdout, "bravo") {
			t.Errorf("%v printed a value: %q", args, r.stdout)
		}
	}
}

// TestReadOnlyStore runs slickenv as an unprivileged user against a store
// it may read but not write (root ignores file modes, so when the tests run
// as root the binary runs as nobody). Reads that reveal nothing work;
// writes and reveals (which must be audited) fail with a clear read-only
// error; nothing changes.
func TestReadOnlyStore(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	p.mustRun("", "set", "A=alpha", "B=bravo")
	key, err := os.ReadFile(p.identityPath())
	if err != nil {
		t.Fatal(err)
	}
	// The project and store as the owner leaves them; nobody may traverse
	// and read, not write.
	for _, d := range []string{filepath.Dir(p.root), p.root, p.dir, p.home,
		filepath.Join(p.home, ".local"), filepath.Join(p.home, ".local", "share"),
		filepath.Join(p.home, ".local", "share", "slickenv"), filepath.Dir(p.storePath())} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chmod(p.storePath(), 0o644); err != nil {
		t.Fatal(err)
	}
	q := p.with("SLICKENV_IDENTITY=" + string(key))
	if os.Geteuid() == 0 {
		// Run a copy of the binary that nobody can execute.
		bin := filepath.Join(p.root, "bin")
		if err := os.Mkdir(bin, 0o755); err != nil {
			t.Fatal(err)
		}
		self, err := exec.LookPath("slickenv")
		if err != nil {
			t.Fatal(err)
		}
		copyFile(t, self, filepath.Join(bin, "slickenv"), 0o755)
		q = q.with("HOME=" + filepath.Join(p.root, "nobody"))
		q.bin = filepath.Join(bin, "slickenv")
		q.cred = &syscall.Credential{Uid: 65534, Gid: 65534}
	} else {
		// Without root, file modes do stop writes.
		for _, f := range []string{filepath.Dir(p.storePath()), p.storePath()} {
			mode := os.FileMode(0o444)
			if f == filepath.Dir(p.storePath()) {
				mode = 0o555
			}
			if err := os.Chmod(f, mode); err != nil {
				t.Fatal(err)
			}
		}
		t.Cleanup(func() { os.Chmod(filepath.Dir(p.storePath()), 0o755) })
	}
	before, err := os.ReadFile(p.storePath())
	if err != nil {
		t.Fatal(err)
	}
	dirBefore := listDir(t, filepath.Dir(p.storePath()))

	t.Run("writes and reveals fail", func(t *testing.T) {
		q := q.withT(t)
		for _, args := range [][]string{
			{"set", "A=changed"},
			{"unset", "A"},
			{"rollback", "--to", "0"},
			{"get", "A"},
			{"export"},
			{"run", "--", "true"},
			{"diff", "--show-values", "0", "1"},
		} {
			r := q.expect(1, []string{"slickenv: error: ", "read-only", p.storePath()}, "", args...)
			if strings.Contains(r.stdout, "alpha") || strings.Contains(r.stdout, "bravo") {
				t.Errorf("%v revealed a value without an audit entry: %q", args, r.stdout)
			}
		}
	})
	t.Run("reads work", func(t *testing.T) {
		q := q.withT(t)
		// A WAL store whose -wal/-shm files are gone and whose directory
		// the reader cannot write can be opened read-only only as
		// immutable: sqlstore.OpenSQLite must add immutable=1 then.
		out := q.mustRun("", "list")
		if !strings.Contains(out, "2 variables in development at v1") {
			t.Errorf("list = %q", out)
		}
		q.mustRun("", "history")
		q.mustRun("", "status")
		q.mustRun("", "diff")
		q.mustRun("", "audit", "verify")
	})
	after, err := os.ReadFile(p.storePath())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("the read-only store file changed")
	}
	if got := listDir(t, filepath.Dir(p.storePath())); got != dirBefore {
		t.Errorf("store directory now holds %s, before %s", got, dirBefore)
	}
}

func listDir(t *testing.T, dir string) string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return strings.Join(names, ",")
}
