package scan

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Tree is the source of the files under Root: inside a git work tree, the
// files git tracks or would track (`git ls-files -co --exclude-standard`,
// so .gitignore is honoured), reported relative to the repository's top
// level; elsewhere every regular file, relative to Root, skipping .git.
// Files larger than MaxSize and ignored paths are not read.
type Tree struct {
	Root    string
	MaxSize int64
	Ignore  *PathFilter
	Skipped int // files not read: ignored, too large or unreadable
}

// Blobs implements Source.
func (t *Tree) Blobs(ctx context.Context, emit func(Blob) error) error {
	info, err := os.Stat(t.Root)
	if err != nil {
		return err
	}
	base := t.Root
	if !info.IsDir() {
		base = filepath.Dir(t.Root)
	}
	top, gerr := RepoRoot(ctx, base)
	if gerr != nil {
		if !info.IsDir() {
			return t.read(filepath.Base(t.Root), t.Root, emit)
		}
		return t.walk(ctx, emit)
	}
	args := []string{"ls-files", "-co", "--exclude-standard", "--full-name", "-z"}
	if !info.IsDir() {
		args = append(args, "--", filepath.Base(t.Root))
	}
	out, err := git(ctx, base, args...)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, p := range bytes.Split(out, []byte{0}) {
		if len(p) == 0 || seen[string(p)] {
			continue
		}
		seen[string(p)] = true
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := t.read(string(p), filepath.Join(top, filepath.FromSlash(string(p))), emit); err != nil {
			return err
		}
	}
	return nil
}

func (t *Tree) walk(ctx context.Context, emit func(Blob) error) error {
	return filepath.WalkDir(t.Root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			t.Skipped++
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(t.Root, p)
		return t.read(filepath.ToSlash(rel), p, emit)
	})
}

// read emits one regular file; missing, unreadable, special, too large
// and ignored files are counted in Skipped.
func (t *Tree) read(rel, full string, emit func(Blob) error) error {
	if t.Ignore.Skip(rel) || strings.HasPrefix(rel, ".git/") {
		t.Skipped++
		return nil
	}
	info, err := os.Lstat(full)
	if err != nil || !info.Mode().IsRegular() || (t.MaxSize > 0 && info.Size() > t.MaxSize) {
		t.Skipped++
		return nil
	}
	data, err := os.ReadFile(full)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
		t.Skipped++
		return nil
	}
	if err != nil {
		return err
	}
	return emit(Blob{Path: rel, Data: data})
}
