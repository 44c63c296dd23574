package secret

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestValueRedacts(t *testing.T) {
	const marker = "hunter2-marker-xyz"
	v := New(marker)
	outs := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10s"} {
		outs[verb] = fmt.Sprintf(verb, v)
	}
	outs["String"] = v.String()
	outs["ptr"] = fmt.Sprintf("%v", &v)
	outs["struct"] = fmt.Sprintf("%+v", struct{ V Value }{v})
	j, err := json.Marshal(map[string]Value{"k": v})
	if err != nil {
		t.Fatal(err)
	}
	outs["json"] = string(j)
	var sb strings.Builder
	slog.New(slog.NewTextHandler(&sb, nil)).Info("msg", "v", v)
	outs["slog"] = sb.String()
	for name, out := range outs {
		if strings.Contains(out, marker) || strings.Contains(out, fmt.Sprintf("%x", marker)) {
			t.Errorf("%s leaked the value: %q", name, out)
		}
	}
	if v.Reveal() != marker {
		t.Fatalf("Reveal = %q", v.Reveal())
	}
}

func TestValueEqualAndCopy(t *testing.T) {
	b := []byte("abc")
	v := FromBytes(b)
	b[0] = 'x'
	if v.Reveal() != "abc" {
		t.Fatal("FromBytes did not copy")
	}
	if !v.Equal(New("abc")) || v.Equal(New("abd")) || v.Equal(New("ab")) {
		t.Fatal("Equal wrong")
	}
	if !New("").IsEmpty() || (Value{}).Len() != 0 {
		t.Fatal("empty wrong")
	}
}
