package audit

import (
	"errors"
	"testing"
	"time"
)

func chain(t *testing.T, n int) ([]Entry, Head) {
	t.Helper()
	var head Head
	var out []Entry
	at := time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	for i := 0; i < n; i++ {
		e, err := Seal("shop", head, Record{At: at.Add(time.Duration(i) * time.Second), Actor: "age1x", Action: "set", Env: "production", Name: "A", Version: int64(i + 1), Detail: map[string]any{"i": i}})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
		head = Head{Seq: e.Seq, Hash: e.Hash}
	}
	return out, head
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func([]Entry, Head) ([]Entry, Head)
		wantSeq int64 // 0: verifies
	}{
		{"untouched", func(e []Entry, h Head) ([]Entry, Head) { return e, h }, 0},
		{"edited actor", func(e []Entry, h Head) ([]Entry, Head) { e[2].Actor = "mallory"; return e, h }, 3},
		{"edited detail", func(e []Entry, h Head) ([]Entry, Head) { e[1].Detail = []byte(`{"i":9}`); return e, h }, 2},
		{"edited time", func(e []Entry, h Head) ([]Entry, Head) { e[0].At = e[0].At.Add(time.Microsecond); return e, h }, 1},
		{"invalid detail", func(e []Entry, h Head) ([]Entry, Head) { e[3].Detail = []byte(`{`); return e, h }, 4},
		{"deleted middle", func(e []Entry, h Head) ([]Entry, Head) { return append(e[:2:2], e[3:]...), h }, 3},
		{"deleted first", func(e []Entry, h Head) ([]Entry, Head) { return e[1:], h }, 1},
		{"deleted last", func(e []Entry, h Head) ([]Entry, Head) { return e[:4], h }, 5},
		{"swapped", func(e []Entry, h Head) ([]Entry, Head) { e[1], e[2] = e[2], e[1]; return e, h }, 2},
		{"renumbered after delete", func(e []Entry, h Head) ([]Entry, Head) {
			e = append(e[:2:2], e[3:]...)
			for i := range e {
				e[i].Seq = int64(i + 1)
			}
			return e, h
		}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, h := chain(t, 5)
			e, h = tt.mutate(e, h)
			err := Verify(e, h)
			if tt.wantSeq == 0 {
				if err != nil {
					t.Fatalf("Verify = %v, want nil", err)
				}
				return
			}
			var be *BreakError
			if !errors.As(err, &be) {
				t.Fatalf("Verify = %v, want BreakError", err)
			}
			if be.Seq != tt.wantSeq {
				t.Fatalf("broken at %d (%s), want %d", be.Seq, be.Reason, tt.wantSeq)
			}
		})
	}
}

func TestEmptyVerifies(t *testing.T) {
	if err := Verify(nil, Head{}); err != nil {
		t.Fatal(err)
	}
}
