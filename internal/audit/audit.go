// Package audit defines the tamper-evident audit log: entries, their hash
// chain, and verification.
//
// # Chain
//
// Entries of one project form a chain numbered 1, 2, 3 …:
//
//	hash(n) = SHA-256(hash(n-1) || canonical JSON of entry n)
//
// with hash(0) = 32 zero bytes. The canonical JSON is [Entry.Canonical]: a
// fixed field order, timestamps in UTC with microsecond precision (what every
// store keeps), and the detail object exactly as stored. The store also keeps
// the head of the chain (last sequence number and hash) in the same
// transaction as each append, so deleting the newest entry is detected too.
//
// Entries never contain secret values: only names, versions, actors,
// outcomes and metadata.
package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"
)

// Outcomes used in entries.
const (
	OutcomeOK     = "ok"
	OutcomeFailed = "failed"
	OutcomeDenied = "denied"
)

// Record is what a caller asks to append; the store assigns the sequence
// number, time (when zero) and hashes.
type Record struct {
	At      time.Time
	Actor   string
	Action  string // "set", "get", "env.create", "rotate.created", …
	Env     string
	Name    string // variable name(s), comma separated when several; "" for whole-environment actions
	Version int64  // environment version the action produced or read; 0 when none
	Outcome string // OutcomeOK when empty
	Detail  map[string]any
}

// Entry is one stored audit entry.
type Entry struct {
	Project  string          `json:"project"`
	Seq      int64           `json:"seq"`
	At       time.Time       `json:"at"`
	Actor    string          `json:"actor"`
	Action   string          `json:"action"`
	Env      string          `json:"env"`
	Name     string          `json:"name"`
	Version  int64           `json:"version"`
	Outcome  string          `json:"outcome"`
	Detail   json.RawMessage `json:"detail"`
	PrevHash []byte          `json:"-"`
	Hash     []byte          `json:"-"`
}

// Head is the end of a project's chain.
type Head struct {
	Seq  int64
	Hash []byte
}

// GenesisHash is the prev hash of the first entry.
func GenesisHash() []byte { return make([]byte, sha256.Size) }

// Truncate returns t in UTC at microsecond precision, the precision every
// store keeps and the one the hash covers.
func Truncate(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// Seal turns a record into the next entry of the chain after head.
// It returns an error only when the detail cannot be encoded as JSON.
func Seal(project string, head Head, r Record) (Entry, error) {
	detail := []byte("{}")
	if len(r.Detail) > 0 {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false) // keep "<stdin>" readable in the stored detail
		if err := enc.Encode(r.Detail); err != nil {
			return Entry{}, fmt.Errorf("encode audit detail: %w", err)
		}
		detail = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	prev := head.Hash
	if head.Seq == 0 {
		prev = GenesisHash()
	}
	outcome := r.Outcome
	if outcome == "" {
		outcome = OutcomeOK
	}
	e := Entry{
		Project: project, Seq: head.Seq + 1, At: Truncate(r.At),
		Actor: r.Actor, Action: r.Action, Env: r.Env, Name: r.Name, Version: r.Version,
		Outcome: outcome, Detail: detail, PrevHash: prev,
	}
	e.Hash = ComputeHash(prev, e)
	return e, nil
}

// Canonical returns the canonical JSON of the entry's content (everything but
// the hashes).
func (e Entry) Canonical() []byte {
	c := struct {
		Project string          `json:"project"`
		Seq     int64           `json:"seq"`
		At      string          `json:"at"`
		Actor   string          `json:"actor"`
		Action  string          `json:"action"`
		Env     string          `json:"env"`
		Name    string          `json:"name"`
		Version int64           `json:"version"`
		Outcome string          `json:"outcome"`
		Detail  json.RawMessage `json:"detail"`
	}{e.Project, e.Seq, Truncate(e.At).Format("2006-01-02T15:04:05.000000Z"), e.Actor, e.Action, e.Env, e.Name, e.Version, e.Outcome, e.Detail}
	if len(c.Detail) == 0 || !json.Valid(c.Detail) {
		// Invalid detail cannot be embedded as raw JSON; hash it as a string so
		// that verification reports a mismatch instead of failing to encode.
		c.Detail = nil
		b, _ := json.Marshal(c)
		return append(b, e.Detail...)
	}
	b, _ := json.Marshal(c)
	return b
}

// ComputeHash returns SHA-256(prev || canonical JSON of e).
func ComputeHash(prev []byte, e Entry) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(e.Canonical())
	return h.Sum(nil)
}

// BreakError reports the first entry at which a chain fails to verify.
type BreakError struct {
	Seq    int64 // sequence number of the first bad entry (or the missing one)
	Reason string
}

func (e *BreakError) Error() string {
	return fmt.Sprintf("audit chain broken at entry %d: %s", e.Seq, e.Reason)
}

// Verify checks entries (in stored order) against the chain rules and the
// stored head. It returns nil or a *BreakError naming the first bad entry.
// An empty log with an empty head verifies.
func Verify(entries []Entry, head Head) error {
	prev := GenesisHash()
	for i, e := range entries {
		want := int64(i + 1)
		if e.Seq != want {
			return &BreakError{Seq: want, Reason: fmt.Sprintf("expected sequence %d, found %d (entry deleted or reordered)", want, e.Seq)}
		}
		if !bytes.Equal(e.PrevHash, prev) {
			return &BreakError{Seq: e.Seq, Reason: "previous-hash link does not match the entry before it (entry deleted, inserted or reordered)"}
		}
		if got := ComputeHash(prev, e); !bytes.Equal(got, e.Hash) {
			return &BreakError{Seq: e.Seq, Reason: "content does not match its hash (entry edited)"}
		}
		prev = e.Hash
	}
	n := int64(len(entries))
	switch {
	case head.Seq != n:
		missing := n + 1
		if head.Seq < n {
			missing = head.Seq + 1
		}
		return &BreakError{Seq: missing, Reason: fmt.Sprintf("chain head records %d entries but %d are present (entries deleted or added)", head.Seq, n)}
	case n > 0 && !bytes.Equal(head.Hash, prev):
		return &BreakError{Seq: n, Reason: "last entry does not match the recorded chain head"}
	}
	return nil
}

// HashHex is a convenience for rendering hashes.
func HashHex(b []byte) string { return hex.EncodeToString(b) }
