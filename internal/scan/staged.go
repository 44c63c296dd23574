package scan

import (
	"bytes"
	"context"
	"strings"
)

// Staged is the source of the blobs staged in the index that differ from
// HEAD (added, copied, modified or renamed), for a pre-commit hook. Paths
// are relative to the repository's top level.
type Staged struct {
	Dir     string
	MaxSize int64
	Ignore  *PathFilter
	Skipped int
}

// Blobs implements Source.
func (s *Staged) Blobs(ctx context.Context, emit func(Blob) error) error {
	top, err := RepoRoot(ctx, s.Dir)
	if err != nil {
		return err
	}
	out, err := git(ctx, top, "diff", "--cached", "--raw", "-z", "--no-abbrev", "--no-renames", "--diff-filter=ACMRT")
	if err != nil {
		return err
	}
	// -z raw: ":old-mode new-mode old-id new-id status\0path\0"
	var reqs []blobRequest
	parts := bytes.Split(out, []byte{0})
	for i := 0; i+1 < len(parts); i += 2 {
		f := strings.Fields(string(parts[i]))
		if len(f) < 5 || f[1] == "160000" {
			continue // submodule
		}
		p := string(parts[i+1])
		if s.Ignore.Skip(p) {
			s.Skipped++
			continue
		}
		reqs = append(reqs, blobRequest{id: f[3], path: p})
	}
	ch := make(chan blobRequest, len(reqs))
	for _, r := range reqs {
		ch <- r
	}
	close(ch)
	return catFile(ctx, top, ch, func(b Blob) error {
		if s.MaxSize > 0 && int64(len(b.Data)) > s.MaxSize {
			s.Skipped++
			putBuffer(b.Data)
			return nil
		}
		return emit(b)
	})
}
