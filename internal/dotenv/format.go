package dotenv

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// Format names an output format for Write.
type Format string

// The formats Write understands.
const (
	FormatDotenv Format = "dotenv" // KEY=value lines that Parse reads back byte for byte
	FormatJSON   Format = "json"   // one object of strings, keys in the given order
	FormatYAML   Format = "yaml"   // one mapping of strings, keys in the given order
	FormatShell  Format = "shell"  // export KEY='value' lines, safe to source in sh, bash and zsh
	FormatDocker Format = "docker" // KEY=value lines as read by docker run --env-file
)

// Formats returns every format Write understands, dotenv first. The slice is
// fresh on every call.
func Formats() []Format {
	return []Format{FormatDotenv, FormatJSON, FormatYAML, FormatShell, FormatDocker}
}

// ParseFormat returns the Format named s. For an unknown name it returns an
// error listing the valid formats.
func ParseFormat(s string) (Format, error) {
	names := make([]string, 0, len(Formats()))
	for _, f := range Formats() {
		if string(f) == s {
			return f, nil
		}
		names = append(names, string(f))
	}
	return "", fmt.Errorf("unknown format %q (valid formats: %s)", s, strings.Join(names, ", "))
}

// Write writes entries in format f, in the order given (caller sorts).
// Entry.Line is ignored.
//
// Every key must satisfy ValidKey and appear once; the shell format also
// needs keys that are shell identifiers. A value that f cannot represent
// faithfully is an error rather than a silent change. Errors name the key,
// never the value (for example "docker format cannot represent a value
// containing a newline (key FOO)"). The output is rendered completely before
// anything is written, so on such an error w receives nothing.
//
// What each format can hold:
//
//   - FormatDotenv: every value, including NUL bytes and invalid UTF-8;
//     Parse without Expand reads it back byte for byte. Values are bare
//     when made only of [A-Za-z0-9_./:@%+,=-], else single-quoted when
//     they have no ' and no control bytes (so $ stays literal even for
//     readers that expand), else double-quoted with \\ \" \n \r \t escapes
//     and other bytes raw.
//   - FormatJSON and FormatYAML: valid UTF-8 only.
//   - FormatShell: anything but NUL, which no shell variable can hold.
//   - FormatDocker: docker run --env-file takes values verbatim, so no
//     newline, trailing CR, NUL or invalid UTF-8, and lines of at most
//     bufio.MaxScanTokenSize-1 bytes. Leading and trailing spaces are fine:
//     docker keeps them.
func Write(w io.Writer, f Format, entries []Entry) error {
	var render func(*bytes.Buffer, []Entry) error
	switch f {
	case FormatDotenv:
		render = writeDotenv
	case FormatJSON:
		render = writeJSON
	case FormatYAML:
		render = writeYAML
	case FormatShell:
		render = writeShell
	case FormatDocker:
		render = writeDocker
	default:
		_, err := ParseFormat(string(f))
		return err
	}
	if err := checkKeys(entries); err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := render(&buf, entries); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

func checkKeys(entries []Entry) error {
	seen := make(map[string]bool, len(entries))
	for _, e := range entries {
		if !ValidKey(e.Key) {
			return fmt.Errorf("invalid key %q: keys must match [A-Za-z0-9_.-]+", e.Key)
		}
		if seen[e.Key] {
			return fmt.Errorf("duplicate key %s", e.Key)
		}
		seen[e.Key] = true
	}
	return nil
}

// unrepresentable is the error for a value format f cannot hold.
func unrepresentable(f Format, what, key string) error {
	return fmt.Errorf("%s format cannot represent a value %s (key %s)", f, what, key)
}
