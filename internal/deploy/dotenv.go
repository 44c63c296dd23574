package deploy

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/slickenv/slickenv/internal/dotenv"
)

// fileMode is the mode of every .env file a dotenv target writes: the file
// holds secrets.
const fileMode fs.FileMode = 0o600

// dotenvTarget rewrites the affected keys of one .env file.
type dotenvTarget struct {
	path string
	// write puts data into the temporary file; a test seam for failures
	// in the middle of a write.
	write func(f *os.File, data []byte) error
}

// NewDotenv returns a target that rewrites the .env file at path.
//
// Deploy changes only the definitions of the keys in the request (see
// dotenv.Rewrite): a set key gets its new value in place, or is appended
// when the file lacks it; an unset key loses every line of its definitions.
// Comments, blank lines, other definitions, order and line endings stay
// byte for byte. A missing file is created; its directory must exist.
//
// The write is atomic: the new content goes to a temporary file in the same
// directory, which is synced and renamed over path, and the directory is
// synced. Readers see the old file or the new one, never a mix; after a
// failure the old file is intact and no temporary file is left. The result
// always has mode 0600. When the old file belonged to another user (slickenv
// running as root for an app user, say) the new one keeps its owner and
// group if the process may chown; otherwise it belongs to the process. When
// path is a symbolic link the file it points to is rewritten and the link
// kept. Concurrent Deploys to files in the same directory from slickenv
// processes are serialised by a lock on the directory (best effort).
//
// Deploy is idempotent; when the file already has the requested content and
// mode it is not touched at all. A file that does not parse as .env is left
// alone and the error names its line and column, never a value.
func NewDotenv(path string) Target {
	return &dotenvTarget{path: path, write: writeAll}
}

func writeAll(f *os.File, data []byte) error {
	_, err := f.Write(data)
	return err
}

func (t *dotenvTarget) Describe() string { return "dotenv " + t.path }

func (t *dotenvTarget) Deploy(ctx context.Context, req Request) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	path, err := resolveLink(t.path)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	unlock, err := lockDir(ctx, dir)
	if err != nil {
		return err
	}
	defer unlock()

	data, err := os.ReadFile(path)
	exists := err == nil
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	set := make(map[string]string, len(req.Set))
	for name, v := range req.Set {
		set[name] = v.Reveal()
	}
	out, err := dotenv.Rewrite(data, set, req.Unset)
	if err != nil {
		var perr *dotenv.ParseError
		if errors.As(err, &perr) {
			perr.File = path
		}
		return err
	}

	var info fs.FileInfo
	if exists {
		if info, err = os.Stat(path); err != nil {
			return err
		}
		if info.Mode().Perm() == fileMode && bytes.Equal(out, data) {
			return nil
		}
	}
	return t.replace(path, out, info)
}

// replace atomically replaces path with data, mode 0600, keeping the owner
// of old (the existing file's info, nil when there is none) when possible.
func (t *dotenvTarget) replace(path string, data []byte, old fs.FileInfo) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".slickenv-*")
	if err != nil {
		return fmt.Errorf("create temporary file: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(fileMode); err != nil {
		return err
	}
	if old != nil {
		if st, ok := old.Sys().(*syscall.Stat_t); ok && (int(st.Uid) != os.Geteuid() || int(st.Gid) != os.Getegid()) {
			// Best effort: only a privileged process may give a file away.
			_ = tmp.Chown(int(st.Uid), int(st.Gid))
		}
	}
	if err := t.write(tmp, data); err != nil {
		return fmt.Errorf("write temporary file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync temporary file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close temporary file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	// The rename is durable once the directory is synced. The new content is
	// in place either way, so a failure here is reported but not undone.
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	return nil
}

// resolveLink returns the file path names, following symbolic links, so
// that a rename replaces that file rather than the link. A path that does
// not exist yet is returned as is; a dangling link is an error.
func resolveLink(path string) (string, error) {
	real, err := filepath.EvalSymlinks(path)
	if err == nil {
		return real, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if info, lerr := os.Lstat(path); lerr == nil && info.Mode()&fs.ModeSymlink != 0 {
		return "", fmt.Errorf("%s is a symbolic link to a file that does not exist", path)
	}
	return path, nil
}

// lockDir takes an exclusive flock on dir, waiting until ctx is done, and
// returns the function that releases it. Two rotations that deploy to the
// same file would otherwise each read the old content and the second rename
// would drop the first one's change. The lock is best effort: on a
// filesystem without flock (some network filesystems) it is skipped, and
// the rename still keeps every write atomic.
func lockDir(ctx context.Context, dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing releases the lock
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return func() {}, nil
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", dir, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
