package scan

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// History is the source of every unique blob reachable from any ref
// (`git rev-list --objects --all`), each read exactly once through one
// streaming `git cat-file --batch`. Blobs larger than MaxSize are not read
// (rev-list's own blob:limit filter), nor are blobs at ignored paths.
// Bare repositories work; blobs missing from a partial clone are skipped.
type History struct {
	Dir     string      // any directory inside the repository
	Since   string      // when set, only objects not reachable from this revision
	MaxSize int64       // bytes; 0 means no limit
	Ignore  *PathFilter // paths skipped before reading
	// Readers is the number of `git cat-file --batch` processes sharing the
	// blobs (0: 2 when there are at least 2 CPUs). Inflating blobs is git's
	// single-threaded bottleneck; a second reader overlaps it with scanning.
	Readers int
	// Skipped counts blobs not read because of their path.
	Skipped int
}

// Commit is where a blob first entered history.
type Commit struct {
	ID     string
	Author string
	Email  string
	Date   time.Time // author date
	Path   string    // the path the blob had in that commit
}

func (h *History) revisions() []string {
	revs := []string{"--all"}
	if h.Since != "" {
		revs = append(revs, "^"+h.Since)
	}
	return revs
}

// Blobs implements Source.
func (h *History) Blobs(ctx context.Context, emit func(Blob) error) error {
	if _, err := git(ctx, h.Dir, "rev-parse", "--git-dir"); err != nil {
		return fmt.Errorf("%s: %w", h.Dir, ErrNotGitRepository)
	}
	if h.Since != "" {
		if _, err := git(ctx, h.Dir, "rev-parse", "--verify", "--quiet", h.Since+"^{commit}"); err != nil {
			return fmt.Errorf("--since %s: unknown revision", h.Since)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	filter := "--filter=object:type=blob"
	if h.MaxSize > 0 {
		filter = fmt.Sprintf("--filter=combine:object:type=blob+blob:limit=%d", h.MaxSize+1)
	}
	args := append([]string{"-c", "core.quotePath=false", "rev-list", "--objects", "--missing=allow-any", filter}, h.revisions()...)
	rev := exec.CommandContext(ctx, "git", args...)
	rev.Dir = h.Dir
	var stderr bytes.Buffer
	rev.Stderr = &stderr
	out, err := rev.StdoutPipe()
	if err != nil {
		return err
	}
	if err := rev.Start(); err != nil {
		return fmt.Errorf("git rev-list: %w", err)
	}
	reqs := make(chan blobRequest, 1024)
	listErr := make(chan error, 1)
	go func() {
		defer close(reqs)
		sc := bufio.NewScanner(out)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			id, p, ok := strings.Cut(sc.Text(), " ")
			if !ok {
				continue // a commit
			}
			p = unquotePath(p)
			if h.Ignore.Skip(p) {
				h.Skipped++
				continue
			}
			select {
			case reqs <- blobRequest{id: id, path: p}:
			case <-ctx.Done():
				listErr <- ctx.Err()
				return
			}
		}
		listErr <- sc.Err()
	}()
	readers := h.Readers
	if readers <= 0 {
		readers = min(2, runtime.NumCPU())
	}
	errs := make(chan error, readers)
	for range readers {
		go func() {
			err := catFile(ctx, h.Dir, reqs, emit)
			if err != nil {
				cancel()
			}
			errs <- err
		}()
	}
	for range readers {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	lerr := <-listErr
	werr := rev.Wait()
	switch {
	case err != nil:
		return err
	case lerr != nil:
		return fmt.Errorf("git rev-list: %w", lerr)
	case werr != nil:
		return fmt.Errorf("git rev-list: %w: %s", werr, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// Attribute finds, for each blob, the earliest commit (parents before
// children) whose diff against a parent adds it. The first pass reads
// `git log --raw` over all refs without diffing merges (cheap: tree diffs
// only); blobs that no ordinary commit added — a secret introduced by a merge
// resolution — are then looked for in the merges' diffs against each parent
// (-m), limited to those blobs' paths, because diffing every merge against
// every parent is what makes `git log -m` slow on big histories. Blobs
// never added by any diff are missing from the map. blobs maps each id to
// the path it was read under.
func (h *History) Attribute(ctx context.Context, blobs map[string]string) (map[string]Commit, error) {
	want := make(map[string]bool, len(blobs))
	for id := range blobs {
		want[id] = true
	}
	found := map[string]Commit{}
	if len(want) == 0 {
		return found, nil
	}
	if err := h.logPass(ctx, nil, nil, want, found); err != nil {
		return nil, err
	}
	var paths []string
	seen := map[string]bool{}
	for id, p := range blobs {
		if _, ok := found[id]; !ok && !seen[p] {
			seen[p] = true
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		return found, nil
	}
	if len(paths) > 1000 {
		paths = nil // too many to list: diff every merge
	}
	if err := h.logPass(ctx, []string{"-m", "--merges"}, paths, want, found); err != nil {
		return nil, err
	}
	return found, nil
}

// logPass reads `git log --raw` (oldest first, parents before children)
// and records in found the first commit that adds each wanted blob.
func (h *History) logPass(ctx context.Context, opts, paths []string, want map[string]bool, found map[string]Commit) error {
	args := []string{"-c", "core.quotePath=false", "-c", "log.showSignature=false", "--literal-pathspecs", "log", "--root", "--raw",
		"--no-abbrev", "--no-renames", "--no-color", "--no-ext-diff", "--date-order", "--reverse", "--format=%x01%H%x00%an%x00%ae%x00%at"}
	args = append(args, opts...)
	args = append(args, h.revisions()...)
	args = append(args, "--")
	args = append(args, paths...)
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = h.Dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("git log: %w", err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var cur Commit
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "\x01"):
			f := strings.Split(line[1:], "\x00")
			if len(f) != 4 {
				continue
			}
			secs, _ := strconv.ParseInt(f[3], 10, 64)
			cur = Commit{ID: f[0], Author: f[1], Email: f[2], Date: time.Unix(secs, 0).UTC()}
		case strings.HasPrefix(line, ":"):
			// :100644 100644 <old> <new> M\tpath
			meta, p, ok := strings.Cut(line, "\t")
			if !ok {
				continue
			}
			f := strings.Fields(meta)
			if len(f) < 5 || f[4] == "D" || !want[f[3]] {
				continue
			}
			if _, seen := found[f[3]]; seen {
				continue
			}
			c := cur
			c.Path = unquotePath(p)
			found[f[3]] = c
		}
	}
	if err := sc.Err(); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return fmt.Errorf("git log: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("git log: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}
