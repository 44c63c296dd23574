package crypto

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestGenerateIdentity(t *testing.T) {
	a, b := mustIdentity(t), mustIdentity(t)
	if !strings.HasPrefix(a.Recipient(), "age1") || !ValidRecipient(a.Recipient()) {
		t.Errorf("Recipient() = %q, want a valid age1… recipient", a.Recipient())
	}
	if a.Recipient() == b.Recipient() {
		t.Error("two generated identities share a recipient")
	}
	if a.String() != a.Recipient() {
		t.Errorf("String() = %q, want the recipient", a.String())
	}
}

func TestMarshalTextRoundTrip(t *testing.T) {
	id := mustIdentity(t)
	text, err := id.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(text), "\n"), "\n")
	if len(lines) != 3 ||
		!strings.HasPrefix(lines[0], "# created: ") ||
		lines[1] != "# public key: "+id.Recipient() ||
		lines[2] != id.x.String() {
		t.Fatalf("MarshalText =\n%s", text)
	}
	created, err := time.Parse(time.RFC3339, strings.TrimPrefix(lines[0], "# created: "))
	if err != nil || time.Since(created) > time.Minute {
		t.Errorf("created line %q: %v", lines[0], err)
	}
	back, err := ParseIdentity(string(text))
	if err != nil {
		t.Fatal(err)
	}
	if back.Recipient() != id.Recipient() {
		t.Error("recipient changed through MarshalText/ParseIdentity")
	}
	again, err := back.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	if string(again) != string(text) {
		t.Errorf("re-marshal differs (creation time lost?):\n%s\nvs\n%s", again, text)
	}
}

func TestParseIdentity(t *testing.T) {
	id := mustIdentity(t)
	key := id.x.String()
	file, err := id.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	other := mustIdentity(t).x.String()
	// Changing one data character breaks the bech32 checksum.
	c := "Q"
	if key[20] == 'Q' {
		c = "P"
	}
	corrupt := key[:20] + c + key[21:]

	tests := []struct {
		name  string
		input string
		ok    bool
	}{
		{"bare key", key, true},
		{"trailing newline", key + "\n", true},
		{"surrounding space", "  " + key + " \t\n", true},
		{"identity file", string(file), true},
		{"CRLF file", strings.ReplaceAll(string(file), "\n", "\r\n"), true},
		{"age-keygen file", "# created: 2024-01-02T03:04:05+01:00\n# public key: " + id.Recipient() + "\n" + key + "\n", true},
		{"blank lines and comments", "\n\n# hello\n\n" + key + "\n\n# bye\n", true},
		{"bad created comment ignored", "# created: yesterday\n" + key, true},

		{"empty", "", false},
		{"only comments", "# created: 2024-01-02T03:04:05Z\n# public key: age1xyz\n", false},
		{"two keys", key + "\n" + other + "\n", false},
		{"recipient instead", id.Recipient(), false},
		{"post-quantum", "AGE-SECRET-KEY-PQ-1QQQQQQQQQQQQQQQ", false},
		{"lowercase key", strings.ToLower(key), false},
		{"corrupted checksum", corrupt, false},
		{"truncated", key[:len(key)-3], false},
		{"plugin identity", "AGE-PLUGIN-YUBIKEY-1QQQQQQ", false},
		{"ssh key", "-----BEGIN OPENSSH PRIVATE KEY-----", false},
		{"too large", strings.Repeat("#", maxIdentitySize) + "\n" + key, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseIdentity(tt.input)
			if !tt.ok {
				if err == nil {
					t.Fatal("ParseIdentity succeeded, want error")
				}
				if !errors.Is(err, ErrMalformedIdentity) {
					t.Errorf("error = %v, want ErrMalformedIdentity", err)
				}
				for _, secretText := range []string{key, other, corrupt, key[:len(key)-3], key[16:40]} {
					if strings.Contains(err.Error(), secretText) {
						t.Errorf("error quotes key material: %v", err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Recipient() != id.Recipient() {
				t.Errorf("Recipient() = %s, want %s", got.Recipient(), id.Recipient())
			}
		})
	}
}

func TestParseIdentityKeepsCreated(t *testing.T) {
	id, err := ParseIdentity("# created: 2024-01-02T03:04:05Z\n" + mustIdentity(t).x.String())
	if err != nil {
		t.Fatal(err)
	}
	text, err := id.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(text), "# created: 2024-01-02T03:04:05Z\n") {
		t.Errorf("MarshalText =\n%s", text)
	}
}

func TestValidRecipient(t *testing.T) {
	id := mustIdentity(t)
	tests := []struct {
		in   string
		want bool
	}{
		{id.Recipient(), true},
		{"", false},
		{"age1", false},
		{id.Recipient() + "q", false},
		{strings.ToUpper(id.Recipient()), false},
		{id.x.String(), false},
		{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHsKLqeplhpW+uObz5dvMgjz1OxfM/XXUB+VHtZ6isGN", false},
		{" " + id.Recipient(), false},
	}
	for _, tt := range tests {
		if got := ValidRecipient(tt.in); got != tt.want {
			t.Errorf("ValidRecipient(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestNilIdentity(t *testing.T) {
	var id *Identity
	if id.Recipient() != "" {
		t.Error("nil Recipient() not empty")
	}
	if _, err := id.MarshalText(); err == nil {
		t.Error("nil MarshalText succeeded")
	}
	if _, err := (&Identity{}).MarshalText(); err == nil {
		t.Error("zero MarshalText succeeded")
	}
}
