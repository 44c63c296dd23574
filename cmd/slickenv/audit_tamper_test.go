package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAuditTamper edits, deletes and reorders single audit rows directly in
// the SQLite file, each on a fresh copy of one store: `audit verify` exits 7
// and names the first bad entry, while the untouched store verifies.
func TestAuditTamper(t *testing.T) {
	t.Parallel()
	p := newProject(t)
	p.mustRun("", "set", "A=1", "B=2")
	p.mustRun("", "get", "A")
	p.mustRun("", "set", "A=3")
	p.mustRun("", "export")
	p.mustRun("", "unset", "B")
	p.mustRun("", "rollback", "--to", "1")
	p.mustRun("", "set", "-e", "production", "P=1")
	var entries []auditJSON
	p.jsonOf(&entries, "audit", "--json")
	n := int64(len(entries)) // 3 env.create + 7
	if n != 10 {
		t.Fatalf("%d audit entries, want 10", n)
	}
	if out := p.mustRun("", "audit", "verify"); out != "✓ audit log of shop verified: 10 entries, chain intact\n" {
		t.Errorf("audit verify = %q", out)
	}
	// Closing the store checkpoints its WAL, so the file alone is the store;
	// copy any -wal anyway.
	original := p.storePath()

	tests := []struct {
		name     string
		sql      []string
		firstBad int64
	}{
		{"edit actor (middle)", []string{`UPDATE audit SET actor = 'mallory' WHERE seq = 5`}, 5},
		{"edit actor (first)", []string{`UPDATE audit SET actor = 'mallory' WHERE seq = 1`}, 1},
		{"edit actor (last)", []string{`UPDATE audit SET actor = 'mallory' WHERE seq = 10`}, 10},
		{"edit action", []string{`UPDATE audit SET action = 'get' WHERE seq = 6`}, 6},
		{"edit version", []string{`UPDATE audit SET version = 9 WHERE seq = 7`}, 7},
		{"edit detail", []string{`UPDATE audit SET detail_json = '{}' WHERE seq = 4`}, 4},
		{"edit time", []string{`UPDATE audit SET at = at + 1 WHERE seq = 3`}, 3},
		{"edit outcome", []string{`UPDATE audit SET outcome = 'denied' WHERE seq = 8`}, 8},
		{"delete middle", []string{`DELETE FROM audit WHERE seq = 4`}, 4},
		{"delete first", []string{`DELETE FROM audit WHERE seq = 1`}, 1},
		{"delete last", []string{`DELETE FROM audit WHERE seq = 10`}, 10},
		{"delete last and rewind the head", []string{
			`DELETE FROM audit WHERE seq = 10`,
			`UPDATE audit_heads SET seq = 9, hash = (SELECT hash FROM audit WHERE seq = 9)`,
		}, 0}, // undetectable without an external anchor: see below
		{"swap seq", []string{
			`UPDATE audit SET seq = -1 WHERE seq = 3`,
			`UPDATE audit SET seq = 3 WHERE seq = 6`,
			`UPDATE audit SET seq = 6 WHERE seq = -1`,
		}, 3},
		{"swap last two", []string{
			`UPDATE audit SET seq = -1 WHERE seq = 9`,
			`UPDATE audit SET seq = 9 WHERE seq = 10`,
			`UPDATE audit SET seq = 10 WHERE seq = -1`,
		}, 9},
		{"renumber to hide a deletion", []string{
			`DELETE FROM audit WHERE seq = 5`,
			`UPDATE audit SET seq = seq - 1 WHERE seq > 5`,
			`UPDATE audit_heads SET seq = 9`,
		}, 5},
	}
	t.Run("tampered", func(t *testing.T) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { tamperCase(t, p, original, tt.sql, tt.firstBad) })
		}
	})
	// The original, copied by every case, still verifies.
	if out := p.mustRun("", "audit", "verify"); !strings.Contains(out, "10 entries, chain intact") {
		t.Errorf("audit verify = %q", out)
	}
}

// tamperCase applies the statements to a fresh copy of the store at
// original and checks what audit verify says (firstBad 0: still verifies).
func tamperCase(t *testing.T, p *project, original string, statements []string, firstBad int64) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "shop.db")
	copyFile(t, original, path, 0o600)
	if _, err := os.Stat(original + "-wal"); err == nil {
		copyFile(t, original+"-wal", path+"-wal", 0o600)
	}
	db := openDB(t, path)
	for _, stmt := range statements {
		res, err := db.Exec(stmt)
		if err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			t.Fatalf("%s changed nothing", stmt)
		}
	}
	db.Close()
	q := p.withT(t).with("SLICKENV_STORE=" + path)
	if firstBad == 0 {
		// Truncating the log and its head together leaves a valid, shorter
		// chain: only an anchor kept elsewhere (a server, a log shipper)
		// can catch that. verify must still work.
		q.mustRun("", "audit", "verify")
		return
	}
	r := q.expect(7, []string{
		fmt.Sprintf("slickenv: error: audit chain broken at entry %d: ", firstBad),
		"slickenv: hint: the audit log was modified outside slickenv",
	}, "", "audit", "verify")
	if strings.Contains(r.stdout, "verified") {
		t.Errorf("stdout claims success: %q", r.stdout)
	}
	r = q.expect(7, nil, "", "audit", "verify", "--json")
	var out struct {
		OK          bool   `json:"ok"`
		FirstBadSeq int64  `json:"first_bad_seq"`
		Reason      string `json:"reason"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
		t.Fatalf("verify --json: %v: %q", err, r.stdout)
	}
	if out.OK || out.FirstBadSeq != firstBad || out.Reason == "" {
		t.Errorf("verify --json = %+v, want first_bad_seq %d", out, firstBad)
	}
}
