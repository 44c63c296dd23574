package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/slickenv/slickenv/internal/audit"
	"github.com/slickenv/slickenv/internal/store"
)

func testJournal(t *testing.T, s store.Store) {
	ctx := context.Background()
	e := mkEnv(t, s, "production")
	until := time.Now().Add(time.Minute)
	r, err := s.StartRotation(ctx, store.Rotation{ID: "rot_1", EnvID: e.ID, Name: "K", Provider: "random", State: "planned",
		PendingCiphertext: []byte("sealed"), OldMeta: map[string]string{"a": "1"}, LeaseOwner: "host:1", LeaseUntil: until},
		audit.Record{Actor: "t", Action: "rotate.planned", Name: "K"})
	if err != nil || r.Fence != 1 {
		t.Fatalf("StartRotation = %+v, %v", r, err)
	}
	_, err = s.StartRotation(ctx, store.Rotation{ID: "rot_2", EnvID: e.ID, Name: "K", Provider: "random", State: "planned"}, audit.Record{Action: "rotate.planned"})
	var be *store.BusyError
	if !errors.As(err, &be) || !errors.Is(err, store.ErrConflict) || be.Existing.ID != "rot_1" {
		t.Fatalf("second StartRotation = %v, want BusyError naming rot_1", err)
	}
	open, err := s.OpenRotation(ctx, e.ID, "K")
	if err != nil || open.ID != "rot_1" || string(open.PendingCiphertext) != "sealed" || open.OldMeta["a"] != "1" || open.LeaseOwner != "host:1" {
		t.Fatalf("OpenRotation = %+v, %v", open, err)
	}
	if _, err := s.OpenRotation(ctx, e.ID, "OTHER"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("OpenRotation(OTHER) = %v", err)
	}
	r, err = s.AdvanceRotation(ctx, "rot_1", 1, store.RotationUpdate{State: "created", NewMeta: map[string]string{"b": "2"}}, audit.Record{Actor: "t", Action: "rotate.created"})
	if err != nil || r.State != "created" || r.NewMeta["b"] != "2" || string(r.PendingCiphertext) != "sealed" {
		t.Fatalf("AdvanceRotation = %+v, %v", r, err)
	}
	// Another process takes the lease: the old holder's fence is dead.
	r, err = s.TakeLease(ctx, "rot_1", "host:2", until, 1, audit.Record{Actor: "t", Action: "rotate.resume"})
	if err != nil || r.Fence != 2 || r.LeaseOwner != "host:2" {
		t.Fatalf("TakeLease = %+v, %v", r, err)
	}
	if _, err := s.TakeLease(ctx, "rot_1", "host:3", until, 1, audit.Record{}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("TakeLease with stale fence = %v, want ErrConflict", err)
	}
	before, _ := s.AuditHead(ctx, "shop")
	if _, err := s.AdvanceRotation(ctx, "rot_1", 1, store.RotationUpdate{State: "distributed"}, audit.Record{Action: "rotate.distributed"}); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("AdvanceRotation with stale fence = %v, want ErrConflict", err)
	}
	if after, _ := s.AuditHead(ctx, "shop"); after.Seq != before.Seq {
		t.Fatal("a fenced-off advance wrote an audit entry")
	}
	if err := s.RenewLease(ctx, "rot_1", "host:1", 1, until); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("RenewLease by old holder = %v, want ErrConflict", err)
	}
	if err := s.RenewLease(ctx, "rot_1", "host:2", 2, until.Add(time.Minute)); err != nil {
		t.Fatalf("RenewLease = %v", err)
	}
	if _, err := s.AdvanceRotation(ctx, "rot_1", 2, store.RotationUpdate{State: store.RotationDone}, audit.Record{Action: "rotate.done"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenRotation(ctx, e.ID, "K"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("OpenRotation after done = %v", err)
	}
	if _, err := s.StartRotation(ctx, store.Rotation{ID: "rot_2", EnvID: e.ID, Name: "K", Provider: "random", State: "planned"}, audit.Record{Action: "rotate.planned"}); err != nil {
		t.Fatalf("StartRotation after done = %v", err)
	}
	list, err := s.Rotations(ctx, e.ID, 0)
	if err != nil || len(list) != 2 {
		t.Fatalf("Rotations = %+v, %v", list, err)
	}
	entries, _ := s.Audit(ctx, "shop", store.AuditQuery{})
	head, _ := s.AuditHead(ctx, "shop")
	if err := audit.Verify(entries, head); err != nil {
		t.Fatal(err)
	}
}
