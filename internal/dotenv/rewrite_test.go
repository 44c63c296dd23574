package dotenv

import (
	"bytes"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestRewrite(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		set   map[string]string
		unset []string
		want  string
	}{
		{"nothing to do", "# c\nA=1 # x\n\n", nil, nil, "# c\nA=1 # x\n\n"},
		{"comments and blank lines kept", "# header\n\nA=1 # inline\n\n# between\nB=2\n",
			map[string]string{"A": "new"}, nil, "# header\n\nA=new # inline\n\n# between\nB=2\n"},
		{"export, indent and blanks around = kept", "export A=1\n  B = 2\t# c\nexport\tC=3\n",
			map[string]string{"A": "x", "B": "y", "C": "z"}, nil, "export A=x\n  B = y\t# c\nexport\tC=z\n"},
		{"multi-line value replaced", "A=1\nKEY=\"-----BEGIN\nabc\n-----END\" # pem\nB=2\n",
			map[string]string{"KEY": "k"}, nil, "A=1\nKEY=k # pem\nB=2\n"},
		{"multi-line value removed", "A=1\nKEY='-----BEGIN\nabc\n-----END'\nB=2\n",
			nil, []string{"KEY"}, "A=1\nB=2\n"},
		{"multi-line backtick value removed at end", "A=1\nKEY=`x\ny`",
			nil, []string{"KEY"}, "A=1\n"},
		{"value that needs quotes", "A=1\n",
			map[string]string{"A": "it's \"x\"\nline 2"}, nil, "A=\"it's \\\"x\\\"\\nline 2\"\n"},
		{"single quotes for $", "A=1\n", map[string]string{"A": "pa$word #1"}, nil, "A='pa$word #1'\n"},
		{"empty value", "A=1\n", map[string]string{"A": ""}, nil, "A=''\n"},
		{"comment right after closing quote", "A='x'#c\n", map[string]string{"A": "y"}, nil, "A=y #c\n"},
		{"empty value before comment", "A= # c\n", map[string]string{"A": "y"}, nil, "A= y # c\n"},
		{"hash value is not a comment", "A=#x\n", map[string]string{"A": "y"}, nil, "A=y\n"},
		{"appended in key order", "A=1\n", map[string]string{"Z": "26", "M": "13"}, nil, "A=1\nM=13\nZ=26\n"},
		{"appended after missing final newline", "A=1", map[string]string{"B": "2"}, nil, "A=1\nB=2\n"},
		{"appended after comment without newline", "A=1\n# end", map[string]string{"B": "2"}, nil, "A=1\n# end\nB=2\n"},
		{"appended to empty input", "", map[string]string{"B": "2"}, nil, "B=2\n"},
		{"replaced on last line without newline", "A=1\nB=2", map[string]string{"B": "3"}, nil, "A=1\nB=3"},
		{"crlf kept and used for new lines", "A=1\r\nB=\"x\r\ny\"\r\n# c\r\n",
			map[string]string{"B": "z", "C": "4"}, nil, "A=1\r\nB=z\r\n# c\r\nC=4\r\n"},
		{"crlf multi-line removed", "A=\"x\r\ny\"\r\nB=1\r\n", nil, []string{"A"}, "B=1\r\n"},
		{"lone cr line endings", "A=1\rB=2\r", map[string]string{"A": "3"}, nil, "A=3\rB=2\r"},
		{"appended after a lone bom", "\xef\xbb\xbf", map[string]string{"A": "1"}, nil, "\xef\xbb\xbfA=1\n"},
		{"bom kept", "\xef\xbb\xbfA=1\n", map[string]string{"A": "2"}, nil, "\xef\xbb\xbfA=2\n"},
		{"duplicates: last replaced, shadowed ones removed", "A=1\nB=2\nA=3\n# c\n",
			map[string]string{"A": "9"}, nil, "B=2\nA=9\n# c\n"},
		{"duplicates all unset", "A=1\nB=2\nA='3\n4'\n", nil, []string{"A"}, "B=2\n"},
		{"unset of absent key is a no-op", "A=1\n# B=2\n", nil, []string{"B"}, "A=1\n# B=2\n"},
		{"set and unset together", "A=1\nB=2\nC=3\n", map[string]string{"C": "x", "D": "y"}, []string{"A"},
			"B=2\nC=x\nD=y\n"},
		{"key lookalikes untouched", "AB=1\nA.B=2\nexport=3\nA=4\n", map[string]string{"A": "5"}, nil,
			"AB=1\nA.B=2\nexport=3\nA=5\n"},
		{"export as a key", "export=1\n", map[string]string{"export": "2"}, nil, "export=2\n"},
		{"commented-out definition untouched", "# A=old\nA=1\n", map[string]string{"A": "2"}, nil, "# A=old\nA=2\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Rewrite([]byte(tt.in), tt.set, tt.unset)
			if err != nil {
				t.Fatalf("Rewrite: %v", err)
			}
			if string(got) != tt.want {
				t.Fatalf("Rewrite(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
			again, err := Rewrite(got, tt.set, tt.unset)
			if err != nil {
				t.Fatalf("second Rewrite: %v", err)
			}
			if !bytes.Equal(again, got) {
				t.Fatalf("not idempotent:\nfirst  %q\nsecond %q", got, again)
			}
			checkRewrite(t, []byte(tt.in), got, tt.set, tt.unset)
		})
	}
}

func TestRewriteErrors(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		set     map[string]string
		unset   []string
		wantErr string
	}{
		{"invalid set key", "A=1\n", map[string]string{"A B": "secret-value"}, nil, `invalid key "A B"`},
		{"invalid unset key", "A=1\n", nil, []string{"="}, `invalid key "="`},
		{"set and unset", "A=1\n", map[string]string{"A": "secret-value"}, []string{"A"}, "key A is both set and unset"},
		{"unparseable input", "A=1\nB='secret-value\n", map[string]string{"A": "2"}, nil,
			"<input>:2:3: unterminated single-quoted value of key B"},
		{"unparseable input with nothing to do", "no equals sign\n", nil, nil, "<input>:1:4: expected '=' after key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Rewrite([]byte(tt.in), tt.set, tt.unset)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "secret-value") {
				t.Fatalf("error leaks a value: %v", err)
			}
			if strings.HasPrefix(tt.name, "unparseable") {
				var perr *ParseError
				if !errors.As(err, &perr) {
					t.Fatalf("error %T is not a *ParseError", err)
				}
			}
		})
	}
}

func FuzzRewrite(f *testing.F) {
	for _, seed := range []string{
		"", "A=1", "A=1\nB=2\n", "# c\nA='x\ny' # c\n\nexport B=\"q\\\"\"\r\n", "A=1\rB=`x\ry`\r",
		"\xef\xbb\xbfA=1", "A=1\nA=2\nB=3", "  A = #c\nB=pa#ss #c", "A=\"x\"#c", "export=1\nexport A=2",
	} {
		f.Add([]byte(seed), "A", "new value", "B", uint8(0))
		f.Add([]byte(seed), "Z", "-----BEGIN\nk\n-----END\n", "A", uint8(7))
		f.Add([]byte(seed), "", "it's \"$x\" #1", "", uint8(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, setKey, value, unsetKey string, pick uint8) {
		old, err := Parse(data, ParseOptions{})
		if err != nil {
			if _, rerr := Rewrite(data, map[string]string{"A": value}, nil); rerr == nil {
				t.Fatalf("Rewrite accepted input that Parse rejects (%v)", err)
			}
			return
		}
		// Aim at keys that exist, to exercise replacement and removal.
		if n := len(old); n > 0 && pick&1 != 0 {
			setKey = old[int(pick/4)%n].Key
		}
		if n := len(old); n > 0 && pick&2 != 0 {
			unsetKey = old[int(pick/8)%n].Key
		}
		set := map[string]string{setKey: value}
		var unset []string
		if unsetKey != "" {
			unset = []string{unsetKey}
		}
		out, err := Rewrite(data, set, unset)
		if !ValidKey(setKey) || unsetKey != "" && !ValidKey(unsetKey) || setKey == unsetKey {
			if err == nil {
				t.Fatalf("Rewrite accepted set %q unset %q", setKey, unset)
			}
			return
		}
		if err != nil {
			t.Fatalf("Rewrite: %v", err)
		}
		checkRewrite(t, data, out, set, unset)
		again, err := Rewrite(out, set, unset)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("not idempotent (%v):\nfirst  %q\nsecond %q", err, out, again)
		}
	})
}

// checkRewrite checks out = Rewrite(in, set, unset) against an oracle that
// knows nothing about Rewrite's internals, only Parse:
//
//   - Parse(out) is Parse(in) with set applied and unset removed;
//   - every unit of in (a comment or blank line, or a definition with all
//     its lines) whose key is not in set or unset appears in out byte for
//     byte, in the same order, and out holds no other units besides one
//     definition per set key.
func checkRewrite(t *testing.T, in, out []byte, set map[string]string, unset []string) {
	t.Helper()
	want := make(map[string]string)
	old, err := Parse(in, ParseOptions{})
	if err != nil {
		t.Fatalf("Parse(in): %v", err)
	}
	for _, e := range old {
		want[e.Key] = e.Value
	}
	for _, k := range unset {
		delete(want, k)
	}
	maps.Copy(want, set)
	entries, err := Parse(out, ParseOptions{})
	if err != nil {
		t.Fatalf("Parse(Rewrite(%q)) = %q: %v", in, out, err)
	}
	got := make(map[string]string)
	for _, e := range entries {
		got[e.Key] = e.Value
	}
	if !maps.Equal(got, want) {
		t.Fatalf("Parse(Rewrite(%q)) = %q\n got %q\nwant %q", in, out, got, want)
	}

	const bom = "\xef\xbb\xbf"
	if bytes.HasPrefix(in, []byte(bom)) != bytes.HasPrefix(out, []byte(bom)) {
		t.Fatalf("Rewrite(%q) = %q: byte order mark not kept", in, out)
	}
	in, out = bytes.TrimPrefix(in, []byte(bom)), bytes.TrimPrefix(out, []byte(bom))
	affected := func(key string) bool {
		_, ok := set[key]
		return ok || slices.Contains(unset, key)
	}
	var kept, outKept []string
	for _, u := range rewriteUnits(t, in) {
		if !affected(u.key) {
			kept = append(kept, u.text)
		}
	}
	perKey := make(map[string]int)
	for _, u := range rewriteUnits(t, out) {
		if affected(u.key) {
			perKey[u.key]++
			continue
		}
		outKept = append(outKept, u.text)
	}
	// A last line without a line break may have gained one before appended keys.
	if n := len(kept); n > 0 && len(outKept) == n && !strings.HasSuffix(kept[n-1], "\n") && !strings.HasSuffix(kept[n-1], "\r") {
		outKept[n-1] = strings.TrimSuffix(strings.TrimSuffix(outKept[n-1], "\n"), "\r")
	}
	if !slices.Equal(kept, outKept) {
		t.Fatalf("Rewrite(%q) = %q changed untouched lines:\n got %q\nwant %q", in, out, outKept, kept)
	}
	for key := range set {
		if perKey[key] != 1 {
			t.Fatalf("Rewrite(%q) = %q: %d definitions of %s, want 1", in, out, perKey[key], key)
		}
	}
	for _, key := range unset {
		if perKey[key] != 0 {
			t.Fatalf("Rewrite(%q) = %q: unset %s still defined", in, out, key)
		}
	}
}

type rewriteUnit struct {
	key  string // "" for comment and blank lines
	text string
}

// rewriteUnits splits valid .env data into units using Parse alone: a line
// starts a unit exactly when the lines before it parse (no quote is open),
// and a unit's key is what Parse finds in it.
func rewriteUnits(t *testing.T, data []byte) []rewriteUnit {
	t.Helper()
	var lines []string
	for start, i := 0, 0; i < len(data); i++ {
		lone := data[i] == '\r' && (i+1 == len(data) || data[i+1] != '\n')
		if data[i] == '\n' || lone || i+1 == len(data) {
			lines = append(lines, string(data[start:i+1]))
			start = i + 1
		}
	}
	var units []rewriteUnit
	prefix := ""
	for i, line := range lines {
		if i == 0 || func() bool { _, err := Parse([]byte(prefix), ParseOptions{}); return err == nil }() {
			units = append(units, rewriteUnit{text: line})
		} else {
			units[len(units)-1].text += line
		}
		prefix += line
	}
	for i := range units {
		entries, err := Parse([]byte(units[i].text), ParseOptions{})
		if err != nil || len(entries) > 1 {
			t.Fatalf("unit %q of %q: %d entries, %v", units[i].text, data, len(entries), err)
		}
		if len(entries) == 1 {
			units[i].key = entries[0].Key
		}
	}
	return units
}
