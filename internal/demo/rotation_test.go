package demo

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
)

func TestRotationViewRendersEvents(t *testing.T) {
	stream := []string{
		`{"event":"plan","rotation":"rot_1","name":"WEBHOOK_SECRET","env":"production","provider":"random","steps":["detect","create"],"rollback":["restore v1 as a new version","redeploy the targets",{"title":"revoke the new key"}]}`,
		`{"event":"step","step":1,"total":5,"title":"Detecting provider adapter","status":"start"}`,
		`{"event":"step","step":1,"total":5,"title":"Detecting provider adapter","status":"ok","detail":"random"}`,
		`{"event":"state","state":"created"}`,
		`{"event":"step","step":2,"total":5,"title":"Creating new credential","status":"ok"}`,
		`{"event":"info","message":"1 target skipped"}`,
		`{"event":"step","step":3,"total":5,"title":"Updating environment versions","status":"ok","detail":"v1 → v2, 2 targets deployed"}`,
		`{"event":"window","elapsed_ms":500,"remaining_ms":1500,"succeeded":1,"total":1}`,
		`{"event":"step","step":4,"total":5,"title":"Verification window (2s)","status":"fail","detail":"http check: 1/2 succeeded"}`,
		`{"event":"state","state":"rolling_back"}`,
		`{"event":"state","state":"rolled_back"}`,
		`{"event":"done","outcome":"rolled_back","exit":5,"message":"verification failed"}`,
	}
	var out bytes.Buffer
	v := &rotationView{scr: &screen{w: &out}, sender: newSender("http://unused", 1, nil)}
	var r rotation
	for _, line := range stream {
		var e event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatal(err)
		}
		v.handle(&e, &r)
	}
	want := `Rotating WEBHOOK_SECRET in production with the random provider (rotation rot_1).
If anything fails before the old key is revoked, it rolls back:
  ↺ restore v1 as a new version
  ↺ redeploy the targets
  ↺ revoke the new key

[1/5] Detecting provider adapter...            ✓ random
[2/5] Creating new credential...               ✓
      1 target skipped
[3/5] Updating environment versions...         ✓ v1 → v2, 2 targets deployed
[4/5] Verification window (2s)...              ✗ http check: 1/2 succeeded
      rotation state: rolling_back
      rotation state: rolled_back
`
	if got := out.String(); got != want {
		t.Errorf("output:\n%s\nwant:\n%s", got, want)
	}
	if strings.Contains(out.String(), "\r") {
		t.Error("status line drawn without a terminal")
	}
	if r.ID != "rot_1" || r.Outcome != "rolled_back" || r.Message != "verification failed" || r.Steps != 3 || r.ok() {
		t.Errorf("rotation = %+v", r)
	}
	if got := strings.Join(r.States, ","); got != "created,rolling_back,rolled_back" {
		t.Errorf("states = %s", got)
	}
}

func TestScreenLiveStatus(t *testing.T) {
	var out bytes.Buffer
	s := &screen{w: &out, live: true}
	s.setStatus("working " + strings.Repeat("x", 100))
	s.printf("done")
	s.setStatus("")
	got := out.String()
	want := "working " + strings.Repeat("x", statusWidth-len("working ")-1) + "…" + "\r\x1b[Kdone\n" + "working " + strings.Repeat("x", statusWidth-len("working ")-1) + "…" + "\r\x1b[K"
	if got != want {
		t.Errorf("got %q\nwant %q", got, want)
	}
}
