package dotenv

import (
	"errors"
	"strings"
	"testing"
)

// marker stands in for secret text in malformed input; no error may echo it.
const marker = "S3CR3T"

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name      string
		in        string
		expand    bool
		line, col int
		msg       string
	}{
		{"key without equals", "A=1\nS3CR3T\n", false, 2, 7, "expected '=' after key"},
		{"key then blank then word", "KEY S3CR3T=1", false, 1, 5, "expected '=' after key"},
		{"key then comment", "KEY #S3CR3T", false, 1, 5, "expected '=' after key"},
		{"unquoted multi-line spill", "PEM=-----BEGIN\nMIIS3CR3T+/=\n", false, 2, 10, "invalid character in key"},
		{"bad key char", "AB$S3CR3T=1", false, 1, 3, "invalid character in key"},
		{"bad key char after export", "export A@=S3CR3T", false, 1, 9, "invalid character in key"},
		{"unicode in key", "KÄY=S3CR3T", false, 1, 2, "invalid character in key"},
		{"colon syntax is not supported", "KEY: S3CR3T", false, 1, 4, "invalid character in key"},
		{"missing key", "\n  =S3CR3T", false, 2, 3, "missing key before '='"},
		{"bad first char", "'KEY'=S3CR3T", false, 1, 1, "invalid character in key"},
		{"unterminated double", "A=1\nB = \"S3CR3T\nmore\n", false, 2, 5, "unterminated double-quoted value of key B"},
		{"unterminated single", "B='S3CR3T", false, 1, 3, "unterminated single-quoted value of key B"},
		{"unterminated backtick", "B=`S3CR3T\n\n", false, 1, 3, "unterminated backtick-quoted value of key B"},
		{"escaped closing quote", `B="S3CR3T\"`, false, 1, 3, "unterminated double-quoted value of key B"},
		{"trailing backslash", `B="S3CR3T\`, false, 1, 3, "unterminated double-quoted value of key B"},
		{"text after closing quote", `B="S3CR3T"S3CR3T`, false, 1, 11, "unexpected character after closing quote of key B"},
		{"text after blank after quote", "B='S3CR3T'  S3CR3T", false, 1, 13, "unexpected character after closing quote of key B"},
		{"text after multi-line quote", "B=\"S3\nCR3T\" x", false, 2, 7, "unexpected character after closing quote of key B"},
		{"crlf columns", "A=1\r\nB='x' S3CR3T\r\n", false, 2, 7, "unexpected character after closing quote of key B"},
		{"bom not counted", "\xef\xbb\xbf@=S3CR3T", false, 1, 1, "invalid character in key"},
		{"unterminated brace", "B=S3CR3T${HOME", true, 1, 9, "invalid variable reference in value of key B"},
		{"empty brace", `B="S3CR3T${}"`, true, 1, 10, "invalid variable reference in value of key B"},
		{"bad brace name", "B=\"x\nS3${A B}\"", true, 2, 3, "invalid variable reference in value of key B"},
		{"brace cut by comment", "B=${S3CR3T #}", true, 1, 3, "invalid variable reference in value of key B"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in), ParseOptions{Filename: "app.env", Expand: tt.expand})
			var perr *ParseError
			if !errors.As(err, &perr) {
				t.Fatalf("Parse(%q) error = %v, want *ParseError", tt.in, err)
			}
			want := ParseError{File: "app.env", Line: tt.line, Col: tt.col, Msg: tt.msg}
			if *perr != want {
				t.Errorf("Parse(%q) error = %q, want %q", tt.in, perr, &want)
			}
			if strings.Contains(err.Error(), marker) || strings.Contains(err.Error(), "S3") {
				t.Errorf("error %q leaks value text", err)
			}
		})
	}
}

func TestParseErrorDefaultFilename(t *testing.T) {
	_, err := Parse([]byte("A"), ParseOptions{})
	if got, want := err.Error(), "<input>:1:2: expected '=' after key"; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}
