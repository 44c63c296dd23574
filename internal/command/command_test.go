package command

import (
	"strings"
	"testing"
)

func TestExcerpt(t *testing.T) {
	const value = "multi-line\nsecret-value-0123456789"
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"empty", nil, ""},
		{"blank lines only", []string{"\n \r\n\t\n"}, ""},
		{"last five lines", []string{"1\n2\n3\n", "4\n5\n6\n7\n"}, "; stderr: 3 / 4 / 5 / 6 / 7"},
		{"crlf and blank lines", []string{"a\r\n\r\nb\r\n"}, "; stderr: a / b"},
		{"value redacted across lines", []string{"x " + value + " y\n"}, "; stderr: x **redacted** y"},
		{"control characters", []string{"\x1b[31mred\x07\n"}, "; stderr: \ufffd[31mred\ufffd"},
		{"long line cut", []string{strings.Repeat("a", 1000)}, "; stderr: " + strings.Repeat("a", lineMax) + "…"},
		{"value lines redacted one by one", []string{"multi-line\r\n  secret-value-0123456789\n"}, "; stderr: **redacted** /   **redacted**"},
		// The kept tail holds the whole value, which starts on its cut first line.
		{"value after truncation", []string{strings.Repeat("z", StderrKeep-5) + value + "\nend\n"}, "; stderr: end"},
		// The kept tail starts in the middle of the value.
		{"value cut by truncation", []string{value + strings.Repeat("z", StderrKeep-20) + "\nend\n"}, "; stderr: end"},
		{"value cut by truncation, one line", []string{"secret-value-0123456789\nend\n" + strings.Repeat("z", StderrKeep-12)}, "; stderr: end / " + strings.Repeat("z", lineMax) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := &TailBuffer{Max: StderrKeep}
			for _, w := range tt.writes {
				b.Write([]byte(w))
			}
			got := b.Excerpt([]string{value})
			if got != tt.want {
				t.Fatalf("excerpt = %q, want %q", got, tt.want)
			}
			if strings.Contains(got, "secret-value") || strings.Contains(got, "0123456789") {
				t.Fatalf("excerpt leaks the value: %q", got)
			}
		})
	}
}
