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

// Change is a set of edits to apply as one version.
type Change struct {
	Kind    string // store.KindSet, KindUnset, KindImport, KindRotate
	Message string
	Set     []Pair   // values to set; a later pair for the same name wins
	Unset   []string // names to delete; each must be set
	// Prune also deletes every variable that Set does not name.
	Prune bool
	// Base is the version the caller computed the change from; 0 means
	// "the current head" (read inside Apply). A non-zero Base that is no
	// longer the head fails with store.ErrConflict.
	Base int64
	// Detail is extra audit detail (no values).
	Detail map[string]any
}

// Result describes what Apply wrote.
type Result struct {
	Version   store.EnvVersion
	Base      int64
	Added     []string
	Changed   []string
	Removed   []string
	Unchanged []string
}

// Apply writes the change as one new version. Values equal to the current
// ones are skipped; when nothing changes it returns ErrNoChange and writes
// nothing. Unsetting a name that is not set wraps store.ErrNotFound. A value
// that was held before by the same variable keeps its original age.
func (e *Env) Apply(ctx context.Context, c Change) (Result, error) {
	if err := e.needKey(); err != nil {
		return Result{}, err
	}
	base := c.Base
	if base == 0 {
		head, err := e.Head(ctx)
		if err != nil {
			return Result{}, err
		}
		base = head.Version
	}
	current, err := e.st.Snapshot(ctx, e.env.ID, base)
	if err != nil {
		return Result{}, err
	}
	cur := make(map[string]store.ValueRow, len(current))
	for _, r := range current {
		cur[r.Name] = r
	}
	res := Result{Base: base}
	final := map[string]secret.Value{}
	var order []string
	for _, p := range c.Set {
		if _, seen := final[p.Name]; !seen {
			order = append(order, p.Name)
		}
		final[p.Name] = p.Value
	}
	var changes []store.Change
	for _, name := range order {
		val := final[name]
		fp := e.dek.Fingerprint(val)
		old, had := cur[name]
		if had && bytes.Equal(old.Fingerprint, fp) {
			res.Unchanged = append(res.Unchanged, name)
			continue
		}
		ct, err := e.dek.Seal(e.slot(name), val)
		if err != nil {
			return res, fmt.Errorf("seal %s: %w", name, err)
		}
		since, seen, err := e.st.FirstSeen(ctx, e.env.ID, name, fp)
		if err != nil {
			return res, err
		}
		ch := store.Change{Name: name, Ciphertext: ct, Fingerprint: fp}
		if seen {
			ch.ValueSince = since
		}
		changes = append(changes, ch)
		if had {
			res.Changed = append(res.Changed, name)
		} else {
			res.Added = append(res.Added, name)
		}
	}
	unset := map[string]bool{}
	for _, name := range c.Unset {
		if unset[name] {
			continue // named twice: delete it once
		}
		unset[name] = true
		if _, had := cur[name]; !had {
			return res, store.Errorf(store.ErrNotFound, "%s is not set in %s", name, e.env.Name)
		}
		if _, setToo := final[name]; setToo {
			return res, fmt.Errorf("%s is both set and unset in one change", name)
		}
		changes = append(changes, store.Change{Name: name, Deleted: true})
		res.Removed = append(res.Removed, name)
	}
	if c.Prune {
		var extra []string
		for _, r := range current {
			if _, keep := final[r.Name]; !keep && !unset[r.Name] {
				extra = append(extra, r.Name)
			}
		}
		for _, name := range extra {
			changes = append(changes, store.Change{Name: name, Deleted: true})
			res.Removed = append(res.Removed, name)
		}
	}
	if len(changes) == 0 {
		return res, ErrNoChange
	}
	detail := map[string]any{}
	for k, v := range c.Detail {
		detail[k] = v
	}
	addNames(detail, "added", res.Added)
	addNames(detail, "changed", res.Changed)
	addNames(detail, "removed", res.Removed)
	if c.Message != "" {
		detail["message"] = c.Message
	}
	v, err := e.st.Commit(ctx, store.Commit{
		EnvID: e.env.ID, Base: base, Kind: c.Kind, Actor: e.actor, Message: c.Message, Changes: changes,
		Audit: audit.Record{Actor: e.actor, Action: c.Kind, Name: joinNames(changes), Detail: detail},
	})
	if err != nil {
		return res, err
	}
	res.Version = v
	return res, nil
}

func addNames(detail map[string]any, key string, names []string) {
	if len(names) > 0 {
		detail[key] = names
	}
}

func joinNames(changes []store.Change) string {
	names := make([]string, len(changes))
	for i, c := range changes {
		names[i] = c.Name
	}
	sort.Strings(names)
	if len(names) > 20 {
		return fmt.Sprintf("%s,… (%d names)", names[0], len(names))
	}
	var b bytes.Buffer
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(n)
	}
	return b.String()
}

// Rollback writes a new version (kind rollback) whose values equal version
// to, for every variable or only for names. Restored values keep the age
// they had. It needs no key: ciphertexts are copied into the same slots.
// ErrNoChange when the environment already equals the target.
func (e *Env) Rollback(ctx context.Context, to int64, names []string, message string) (Result, error) {
	head, err := e.Head(ctx)
	if err != nil {
		return Result{}, err
	}
	if to < 0 || to > head.Version {
		return Result{}, store.Errorf(store.ErrNotFound, "environment %s has no version %d (latest is v%d)", e.env.Name, to, head.Version)
	}
	curRows, err := e.st.Snapshot(ctx, e.env.ID, head.Version)
	if err != nil {
		return Result{}, err
	}
	tgtRows, err := e.st.Snapshot(ctx, e.env.ID, to)
	if err != nil {
		return Result{}, err
	}
	cur, tgt := byName(curRows), byName(tgtRows)
	scope := names
	if len(scope) == 0 {
		seen := map[string]bool{}
		for n := range cur {
			seen[n] = true
		}
		for n := range tgt {
			seen[n] = true
		}
		for n := range seen {
			scope = append(scope, n)
		}
	} else {
		scope = dedupe(scope)
		for _, n := range scope {
			_, inCur := cur[n]
			_, inTgt := tgt[n]
			if !inCur && !inTgt {
				return Result{}, store.Errorf(store.ErrNotFound, "%s is set neither now nor at v%d in %s", n, to, e.env.Name)
			}
		}
	}
	sort.Strings(scope)
	res := Result{Base: head.Version}
	var changes []store.Change
	for _, n := range scope {
		c, inCur := cur[n]
		t, inTgt := tgt[n]
		switch {
		case inTgt && inCur && bytes.Equal(c.Fingerprint, t.Fingerprint):
			res.Unchanged = append(res.Unchanged, n)
		case inTgt:
			changes = append(changes, store.Change{Name: n, Ciphertext: t.Ciphertext, Fingerprint: t.Fingerprint, ValueSince: t.ValueSince})
			if inCur {
				res.Changed = append(res.Changed, n)
			} else {
				res.Added = append(res.Added, n)
			}
		case inCur:
			changes = append(changes, store.Change{Name: n, Deleted: true})
			res.Removed = append(res.Removed, n)
		}
	}
	if len(changes) == 0 {
		return res, ErrNoChange
	}
	detail := map[string]any{"to": to}
	addNames(detail, "added", res.Added)
	addNames(detail, "changed", res.Changed)
	addNames(detail, "removed", res.Removed)
	if message == "" {
		message = fmt.Sprintf("rollback to v%d", to)
	}
	detail["message"] = message
	v, err := e.st.Commit(ctx, store.Commit{
		EnvID: e.env.ID, Base: head.Version, Kind: store.KindRollback, Actor: e.actor, Message: message, Changes: changes,
		Audit: audit.Record{Actor: e.actor, Action: store.KindRollback, Name: joinNames(changes), Detail: detail},
	})
	if err != nil {
		return res, err
	}
	res.Version = v
	return res, nil
}

// dedupe returns list without repeated names, keeping the first of each.
func dedupe(list []string) []string {
	seen := make(map[string]bool, len(list))
	out := make([]string, 0, len(list))
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func byName(rows []store.ValueRow) map[string]store.ValueRow {
	m := make(map[string]store.ValueRow, len(rows))
	for _, r := range rows {
		m[r.Name] = r
	}
	return m
}
