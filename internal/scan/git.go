package scan

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
)

// ErrNotGitRepository is returned by the history and staged sources outside
// a git work tree.
var ErrNotGitRepository = errors.New("not a git repository")

// git runs git in dir and returns its stdout; stderr becomes the error.
func git(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "core.quotePath=false"}, args...)...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(stderr.String()))
	}
	return out, nil
}

// RepoRoot returns the top level of the git work tree containing dir, or
// an error wrapping ErrNotGitRepository.
func RepoRoot(ctx context.Context, dir string) (string, error) {
	out, err := git(ctx, dir, "rev-parse", "--show-toplevel")
	if err != nil {
		return "", fmt.Errorf("%s: %w", dir, ErrNotGitRepository)
	}
	return strings.TrimSpace(string(out)), nil
}

// blobRequest is one blob to read, with the path it is reported under.
type blobRequest struct {
	id   string
	path string
}

// catFile streams the blobs requested on reqs through one
// `git cat-file --batch` process, calling emit for each in order. Requests
// are written by a goroutine that flushes before it would block, so the
// pipe never deadlocks; memory is bounded by the channel and one blob.
func catFile(ctx context.Context, dir string, reqs <-chan blobRequest, emit func(Blob) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", "cat-file", "--batch", "--buffer")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("git cat-file: %w", err)
	}
	pending := make(chan string, 4096)
	writeErr := make(chan error, 1)
	go func() {
		defer close(pending)
		w := bufio.NewWriterSize(stdin, 64<<10)
		var err error
		for r := range reqs {
			select {
			case pending <- r.path:
			default:
				if err = w.Flush(); err != nil {
					break
				}
				select {
				case pending <- r.path:
				case <-ctx.Done():
					err = ctx.Err()
				}
			}
			if err != nil {
				break
			}
			if _, err = w.WriteString(r.id + "\n"); err != nil {
				break
			}
		}
		if err == nil {
			err = w.Flush()
		}
		stdin.Close()
		writeErr <- err
		for range reqs { // drain so the producer never blocks
		}
	}()
	rd := bufio.NewReaderSize(stdout, 256<<10)
	var readErr error
	for p := range pending {
		header, err := rd.ReadString('\n')
		if err != nil {
			readErr = fmt.Errorf("git cat-file: read header: %w", err)
			break
		}
		fields := strings.Fields(header)
		if len(fields) == 2 && fields[1] == "missing" {
			continue
		}
		if len(fields) != 3 {
			readErr = fmt.Errorf("git cat-file: unexpected header %q", header)
			break
		}
		size, err := strconv.Atoi(fields[2])
		if err != nil {
			readErr = fmt.Errorf("git cat-file: unexpected header %q", header)
			break
		}
		buf := getBuffer(size)
		if _, err := io.ReadFull(rd, buf); err != nil {
			readErr = fmt.Errorf("git cat-file: read %s: %w", fields[0], err)
			break
		}
		if _, err := rd.Discard(1); err != nil {
			readErr = err
			break
		}
		if fields[1] != "blob" {
			putBuffer(buf)
			continue
		}
		if err := emit(Blob{ID: fields[0], Path: p, Data: buf, pooled: true}); err != nil {
			readErr = err
			break
		}
	}
	if readErr != nil {
		cancel()
		for range pending {
		}
	}
	werr := <-writeErr
	io.Copy(io.Discard, stdout)
	waitErr := cmd.Wait()
	switch {
	case readErr != nil:
		return readErr
	case ctx.Err() != nil:
		return ctx.Err()
	case werr != nil:
		return fmt.Errorf("git cat-file: %w", werr)
	case waitErr != nil:
		return fmt.Errorf("git cat-file: %w: %s", waitErr, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// unquotePath undoes git's C-style quoting of unusual paths.
func unquotePath(p string) string {
	if len(p) >= 2 && p[0] == '"' {
		if u, err := strconv.Unquote(p); err == nil {
			return u
		}
	}
	return p
}
