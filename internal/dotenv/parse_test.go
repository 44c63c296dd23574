package dotenv

import (
	"reflect"
	"testing"
)

// kv builds the expected entries of a parse test: key, value, line triples.
func kv(args ...any) []Entry {
	var out []Entry
	for i := 0; i < len(args); i += 3 {
		out = append(out, Entry{Key: args[i].(string), Value: args[i+1].(string), Line: args[i+2].(int)})
	}
	return out
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []Entry
	}{
		{"empty input", "", nil},
		{"blank and comment lines", "\n  \n\t\n# a comment\n   # indented comment\n", nil},
		{"simple", "A=1\nB=two\n", kv("A", "1", 1, "B", "two", 2)},
		{"no trailing newline", "A=1", kv("A", "1", 1)},
		{"key characters", "a.B-c_9=x", kv("a.B-c_9", "x", 1)},
		{"leading digit key", "9LIVES=x", kv("9LIVES", "x", 1)},
		{"blanks around key and equals", "  \tA \t=\t  v  \t\n", kv("A", "v", 1)},
		{"empty value", "A=\nB=   \n", kv("A", "", 1, "B", "", 2)},
		{"empty double quotes", `A=""`, kv("A", "", 1)},
		{"empty single quotes", `A=''`, kv("A", "", 1)},
		{"empty backticks", "A=``", kv("A", "", 1)},
		{"equals in value", "A=b=c==", kv("A", "b=c==", 1)},
		{"hash inside word stays", "A=pa#ss", kv("A", "pa#ss", 1)},
		{"hash at value start stays", "A=#notcomment", kv("A", "#notcomment", 1)},
		{"hash after blank is comment", "A=a #c", kv("A", "a", 1)},
		{"hash after tab is comment", "A=a\t#c", kv("A", "a", 1)},
		{"comment only value", "A= # nothing here", kv("A", "", 1)},
		{"inner spaces kept", "A=a b  c   # x", kv("A", "a b  c", 1)},
		{"backslashes literal unquoted", `A=a\nb\\c\"`, kv("A", `a\nb\\c\"`, 1)},
		{"single quotes literal", `A='a\nb #c $X "d"'`, kv("A", `a\nb #c $X "d"`, 1)},
		{"single quote ends at first quote", `A='a\'`, kv("A", `a\`, 1)},
		{"backticks literal", "A=`a\\n 'b' \"c\" #d`", kv("A", `a\n 'b' "c" #d`, 1)},
		{"double quote escapes", `A="a\nb\rc\td\\e\"f"`, kv("A", "a\nb\rc\td\\e\"f", 1)},
		{"double quote unknown escapes kept", `A="\x\$\'\a"`, kv("A", `\x\$\'\a`, 1)},
		{"double quotes keep hash and blanks", `A="  a #b  "`, kv("A", "  a #b  ", 1)},
		{"comment after quotes", `A="x" # c` + "\nB='y'#c\nC=`z`   ", kv("A", "x", 1, "B", "y", 2, "C", "z", 3)},
		{"multi-line double quotes", "A=\"line1\nline2\n\"\nB=2", kv("A", "line1\nline2\n", 1, "B", "2", 4)},
		{"multi-line single quotes", "A='-----BEGIN KEY-----\nabc\n-----END KEY-----'\nB=1", kv("A", "-----BEGIN KEY-----\nabc\n-----END KEY-----", 1, "B", "1", 4)},
		{"multi-line backticks", "\nA=`x\ny`", kv("A", "x\ny", 2)},
		{"crlf", "A=1\r\nB=\"x\r\ny\"\r\n", kv("A", "1", 1, "B", "x\ny", 2)},
		{"lone cr is a line break", "A=1\rB=2\r", kv("A", "1", 1, "B", "2", 2)},
		{"escaped cr survives crlf normalisation", `A="a\r\nb"`, kv("A", "a\r\nb", 1)},
		{"bom", "\xef\xbb\xbfA=1", kv("A", "1", 1)},
		{"export prefix", "export A=1\nexport\tB = 2", kv("A", "1", 1, "B", "2", 2)},
		{"export as key", "export=1\nexport =2", kv("export", "2", 2)},
		{"exporter is a key", "exporter=1", kv("exporter", "1", 1)},
		{"duplicates: last wins, first order", "A=1\nB=2\nA=3\n", kv("A", "3", 3, "B", "2", 2)},
		{"dollar literal by default", "A=$HOME\nB=\"${HOME}\"\nC=$A", kv("A", "$HOME", 1, "B", "${HOME}", 2, "C", "$A", 3)},
		{"unicode", "A=héllo 日本 🔑\nB=\"ü\"", kv("A", "héllo 日本 🔑", 1, "B", "ü", 2)},
		{"nul and invalid utf-8 bytes in values", "A=\x00\xff\nB=\"\xfe\"", kv("A", "\x00\xff", 1, "B", "\xfe", 2)},
		{"line counts multi-line values", "A='x\n\ny'\n\n# c\nB=1", kv("A", "x\n\ny", 1, "B", "1", 6)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in), ParseOptions{})
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %#v\nwant %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseExpand(t *testing.T) {
	env := map[string]string{"HOME": "/home/u", "A": "from-env", "X.Y": "dotted"}
	lookup := func(name string) (string, bool) { v, ok := env[name]; return v, ok }
	tests := []struct {
		name   string
		in     string
		lookup func(string) (string, bool)
		want   []Entry
	}{
		{"bare name", "P=$HOME/bin", lookup, kv("P", "/home/u/bin", 1)},
		{"braced name", "P=${HOME}x", lookup, kv("P", "/home/ux", 1)},
		{"braced key chars", "P=${X.Y}", lookup, kv("P", "dotted", 1)},
		{"earlier key wins over lookup", "A=file\nB=$A", lookup, kv("A", "file", 1, "B", "file", 2)},
		{"later key does not count", "B=$A\nA=file", lookup, kv("B", "from-env", 1, "A", "file", 2)},
		{"self reference uses lookup", "HOME=$HOME/x", lookup, kv("HOME", "/home/u/x", 1)},
		{"redefinition sees previous value", "A=1\nA=$A-2", lookup, kv("A", "1-2", 2)},
		{"undefined is empty", "P=[$NOPE]", lookup, kv("P", "[]", 1)},
		{"nil lookup", "P=[$HOME]", nil, kv("P", "[]", 1)},
		{"double quotes expand", `P="$HOME\n"`, lookup, kv("P", "/home/u\n", 1)},
		{"single quotes do not", `P='$HOME'`, lookup, kv("P", "$HOME", 1)},
		{"backticks do not", "P=`$HOME`", lookup, kv("P", "$HOME", 1)},
		{"escaped dollar unquoted", `P=\$HOME`, lookup, kv("P", "$HOME", 1)},
		{"escaped dollar double quoted", `P="\$HOME"`, lookup, kv("P", "$HOME", 1)},
		{"lone dollar", "P=a$ $1 $", lookup, kv("P", "a$ $1 $", 1)},
		{"expanded text not re-expanded", "B=x\nA='$B'\nC=${A}", lookup, kv("B", "x", 1, "A", "$B", 2, "C", "$B", 3)},
		{"dollar dollar", "P=$$HOME", lookup, kv("P", "$/home/u", 1)},
		{"comment after reference", "P=$HOME #c", lookup, kv("P", "/home/u", 1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse([]byte(tt.in), ParseOptions{Expand: true, Lookup: tt.lookup})
			if err != nil {
				t.Fatalf("Parse(%q) error: %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %#v\nwant %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestValidKey(t *testing.T) {
	tests := []struct {
		key  string
		want bool
	}{
		{"A", true}, {"a.b-c_D9", true}, {"0", true}, {"-", true},
		{"", false}, {"A B", false}, {"A=B", false}, {"Ä", false}, {"A$", false}, {"A\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			if got := ValidKey(tt.key); got != tt.want {
				t.Errorf("ValidKey(%q) = %v, want %v", tt.key, got, tt.want)
			}
		})
	}
}
