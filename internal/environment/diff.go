package environment

import (
	"bytes"
	"context"
	"fmt"
	"sort"

	"github.com/slickenv/slickenv/internal/audit"
	"github.com/slickenv/slickenv/internal/secret"
	"github.com/slickenv/slickenv/internal/store"
)

// DiffKind classifies one name in a diff.
type DiffKind string

// Diff kinds.
const (
	Added   DiffKind = "added"
	Removed DiffKind = "removed"
	Changed DiffKind = "changed"
)

// DiffEntry is one name that differs between two versions. Old and New are
// filled only when values were asked for.
type DiffEntry struct {
	Name string
	Kind DiffKind
	Old  secret.Value
	New  secret.Value
}

// Diff compares version a with version b by fingerprint; here 0 is the
// empty environment, not the head. With values, it decrypts the differing
// values (audited as "diff").
func (e *Env) Diff(ctx context.Context, a, b int64, values bool) ([]DiffEntry, store.EnvVersion, store.EnvVersion, error) {
	va, err := e.exact(ctx, a)
	if err != nil {
		return nil, va, store.EnvVersion{}, err
	}
	vb, err := e.exact(ctx, b)
	if err != nil {
		return nil, va, vb, err
	}
	ra, err := e.st.Snapshot(ctx, e.env.ID, va.Version)
	if err != nil {
		return nil, va, vb, err
	}
	rb, err := e.st.Snapshot(ctx, e.env.ID, vb.Version)
	if err != nil {
		return nil, va, vb, err
	}
	ma, mb := byName(ra), byName(rb)
	var out []DiffEntry
	for n, x := range ma {
		y, ok := mb[n]
		switch {
		case !ok:
			out = append(out, DiffEntry{Name: n, Kind: Removed})
		case !bytes.Equal(x.Fingerprint, y.Fingerprint):
			out = append(out, DiffEntry{Name: n, Kind: Changed})
		}
	}
	for n := range mb {
		if _, ok := ma[n]; !ok {
			out = append(out, DiffEntry{Name: n, Kind: Added})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	if !values || len(out) == 0 {
		return out, va, vb, nil
	}
	if err := e.needKey(); err != nil {
		return nil, va, vb, err
	}
	if _, err := e.st.AppendAudit(ctx, e.env.Project, audit.Record{Actor: e.actor, Action: "diff", Env: e.env.Name, Version: vb.Version, Detail: map[string]any{"from": va.Version, "to": vb.Version, "revealed": len(out)}}); err != nil {
		return nil, va, vb, fmt.Errorf("audit diff: %w", err)
	}
	for i := range out {
		if r, ok := ma[out[i].Name]; ok {
			if out[i].Old, err = e.dek.Open(e.slot(r.Name), r.Ciphertext); err != nil {
				return nil, va, vb, fmt.Errorf("decrypt %s (v%d): %w", r.Name, r.EnvVersion, err)
			}
		}
		if r, ok := mb[out[i].Name]; ok {
			if out[i].New, err = e.dek.Open(e.slot(r.Name), r.Ciphertext); err != nil {
				return nil, va, vb, fmt.Errorf("decrypt %s (v%d): %w", r.Name, r.EnvVersion, err)
			}
		}
	}
	return out, va, vb, nil
}

// exact resolves a version number where 0 is the empty environment.
func (e *Env) exact(ctx context.Context, version int64) (store.EnvVersion, error) {
	if version == 0 {
		return store.EnvVersion{}, nil
	}
	return e.Resolve(ctx, version)
}

// History lists versions newest first (only those that changed name, when
// given), with at most limit entries (0: all).
func (e *Env) History(ctx context.Context, name string, limit int) ([]store.EnvVersion, error) {
	return e.st.Versions(ctx, e.env.ID, store.VersionQuery{Name: name, Limit: limit})
}
