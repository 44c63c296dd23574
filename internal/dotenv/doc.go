// Package dotenv parses and formats .env files.
//
// # Syntax
//
// Parse follows node dotenv v16, the de-facto standard, with the
// differences listed here written down as rules:
//
//   - A UTF-8 byte order mark at the start of the input is ignored.
//   - CRLF and lone CR line endings are normalised to LF before anything
//     else, also inside quoted values.
//   - Blank lines and lines whose first non-blank character is # are ignored.
//   - A definition is [export ]KEY=VALUE. Keys match [A-Za-z0-9_.-]+.
//     Spaces and tabs around the key, around = and before the value are
//     ignored. A key without = is an error.
//   - An unquoted value runs to the end of the line. A # starts a comment
//     only when it follows a space or tab, so pa#ss stays whole while
//     "a #c" is the value a. Trailing spaces and tabs are trimmed.
//     Backslashes are literal.
//   - 'single' and `backtick` quoted values are literal: no escapes.
//   - "double" quoted values understand \n, \r, \t, \\ and \"; any other
//     backslash is kept as written.
//   - Quoted values may span lines. After the closing quote only spaces,
//     tabs and a # comment may follow on that line.
//   - A missing value, empty double quotes and empty single quotes all
//     define the empty string.
//   - When a key is defined more than once, the last definition wins.
//
// There is no $ expansion unless [ParseOptions.Expand] is set, because
// expanding silently corrupts secrets that happen to contain a $. With
// Expand, $NAME and ${NAME} in unquoted and double-quoted values are
// replaced by the value of an earlier key in the same input or else by
// [ParseOptions.Lookup] (undefined names expand to the empty string), and \$
// stands for a literal $.
//
// Positions in errors are 1-based; columns count bytes, as Go's own tools
// do. Errors never quote any part of a value.
//
// # Formats
//
// [Write] renders entries as dotenv, JSON, YAML, a shell script safe to
// source, or a docker --env-file. The dotenv form round-trips through
// [Parse] byte for byte for every value; the other formats refuse, with an
// error naming the key, values they cannot represent faithfully.
package dotenv
