package dotenv

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// writeYAML writes one mapping of string scalars, in order, indented by two
// spaces. Every scalar is tagged !!str, which makes the encoder quote values
// such as "true", "1e3" or "" that would otherwise read back as other types.
// Values holding anything but printable characters and plain spaces are
// forced into double quotes, the only YAML style with escapes, because
// the other styles fold or drop line breaks, tabs and trailing spaces. YAML
// text is Unicode, so a value that is not valid UTF-8 is an error.
func writeYAML(buf *bytes.Buffer, entries []Entry) error {
	mapping := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	for _, e := range entries {
		if !utf8.ValidString(e.Value) {
			return unrepresentable(FormatYAML, "that is not valid UTF-8", e.Key)
		}
		value := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: e.Value}
		if strings.ContainsFunc(e.Value, func(r rune) bool { return r != ' ' && !unicode.IsPrint(r) }) {
			value.Style = yaml.DoubleQuotedStyle
		}
		mapping.Content = append(mapping.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: e.Key}, value)
	}
	enc := yaml.NewEncoder(buf)
	enc.SetIndent(2)
	if err := enc.Encode(mapping); err != nil {
		return err
	}
	return enc.Close()
}
