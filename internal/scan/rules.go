package scan

import (
	"encoding/base64"
	"encoding/json"
	"regexp"
	"strings"
)

// Rule is one provider pattern. A rule's regular expression runs only on the
// lines of a blob that contain one of its Keywords (ASCII case-insensitive),
// and a match is kept only when its secret passes Valid.
type Rule struct {
	ID          string // stable, used in fingerprints and SARIF: "aws-access-key"
	Description string
	Keywords    []string       // prefilter; at least one must occur
	Regex       *regexp.Regexp // the secret is submatch SecretGroup (0: whole match)
	SecretGroup int
	// Multiline rules see up to 16 KiB after a keyword instead of its line.
	Multiline bool
	// MinEntropy, when > 0, is the secret's minimum Shannon entropy in bits
	// per byte.
	MinEntropy float64
	// Valid, when set, rejects secrets that match the pattern but are not
	// credentials (placeholders, look-alikes).
	Valid func(secret string) bool
	// TruePositives must each produce a finding of this rule;
	// FalsePositives must produce none (checked by the rules' table test).
	TruePositives  []string
	FalsePositives []string
}

// placeholderWords mark documentation values, not credentials.
var placeholderWords = []string{"example", "xxxxxx", "******", "your_", "your-", "<", "${", "changeme", "placeholder", "dummy", "redacted", "0000000000", "0123456789", "1234567890", "abcdefghij"}

func notPlaceholder(s string) bool {
	l := strings.ToLower(s)
	for _, w := range placeholderWords {
		if strings.Contains(l, w) {
			return false
		}
	}
	return true
}

// DefaultRules returns the built-in rules, freshly compiled.
func DefaultRules() []*Rule {
	return []*Rule{
		{
			ID:          "aws-access-key",
			Description: "AWS access key ID",
			Keywords:    []string{"AKIA", "ASIA", "ABIA", "ACCA"},
			Regex:       regexp.MustCompile(`\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16})\b`),
			SecretGroup: 1,
			MinEntropy:  3.0,
			Valid:       notPlaceholder,
			TruePositives: []string{
				"aws_access_key_id = AKIAZ5WQ3RJX2N7TLMPE",
				`"AccessKeyId": "ASIAY34FZKBOKMUTVV7A"`,
			},
			FalsePositives: []string{
				"aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
				"AKIAXXXXXXXXXXXXXXXX",
				"akiaz5wq3rjx2n7tlmpe",
				"KAKIAZ5WQ3RJX2N7TLMPE1",
			},
		},
		{
			ID:          "stripe-key",
			Description: "Stripe secret or restricted API key",
			Keywords:    []string{"sk_live_", "sk_test_", "rk_live_", "rk_test_"},
			Regex:       regexp.MustCompile(`\b((?:sk|rk)_(?:live|test)_[0-9a-zA-Z]{20,247})\b`),
			SecretGroup: 1,
			MinEntropy:  3.3,
			Valid:       notPlaceholder,
			TruePositives: []string{
				"STRIPE_SECRET_KEY=sk_live_51HqLyjW8aB3kZ9xQ2mN7pR4tV6yC1dE0fG",
				"stripe.api_key = 'rk_live_4eC39HqLyjWDarjtT1zdp7dcX9q'",
				"sk_test_26PHem9AhJZvU623DfE1x4sd",
			},
			FalsePositives: []string{
				"sk_live_xxxxxxxxxxxxxxxxxxxxxxxx",
				"sk_test_YOUR_KEY_HERE_PLEASE_1234",
				"pk_live_51HqLyjW8aB3kZ9xQ2mN7pR4tV6yC1dE0fG",
				"sk_live_short",
			},
		},
		{
			ID:          "github-token",
			Description: "GitHub token",
			Keywords:    []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"},
			Regex:       regexp.MustCompile(`\b((?:gh[pousr]_[0-9A-Za-z]{36})|(?:github_pat_[0-9A-Za-z_]{82}))\b`),
			SecretGroup: 1,
			MinEntropy:  3.5,
			Valid:       notPlaceholder,
			TruePositives: []string{
				"GITHUB_TOKEN=ghp_R8sK2mQ9vX4tL7wN1bH5jF3dC6yP0aZ8eU2i",
				"token: ghs_16C7e42F292c6912E7710c838347Ae178B4a",
				"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",
			},
			FalsePositives: []string{
				"ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
				"ghp_short",
				"aghp_R8sK2mQ9vX4tL7wN1bH5jF3dC6yP0aZ8eU2i",
			},
		},
		{
			ID:          "slack-token",
			Description: "Slack token",
			Keywords:    []string{"xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-"},
			Regex:       regexp.MustCompile(`\b(xox[baprs]-(?:[0-9]{6,}-)+[0-9A-Za-z]{10,}(?:-[0-9A-Za-z]+)*)\b`),
			SecretGroup: 1,
			MinEntropy:  3.0,
			Valid:       notPlaceholder,
			TruePositives: []string{
				"SLACK_BOT_TOKEN=xoxb-263594206564-2343594206574-FGqddMF8t08v8N7Oq4i57vs1",
				"xoxp-3164258726-3164258734-3162598471-9f3c6a1e2b8d7c5f4a3e2d1c0b9a8f7e",
			},
			FalsePositives: []string{
				"xoxb-your-token-here",
				"xoxb-000000000000-0000000000000-xxxxxxxxxxxxxxxxxxxxxxxx",
				"xoxq-263594206564-2343594206574-FGqddMF8t08v8N7Oq4i57vs1",
			},
		},
		{
			ID:          "sendgrid-key",
			Description: "SendGrid API key",
			Keywords:    []string{"SG."},
			Regex:       regexp.MustCompile(`\b(SG\.[0-9A-Za-z_-]{22}\.[0-9A-Za-z_-]{43})(?:[^0-9A-Za-z_-]|$)`),
			SecretGroup: 1,
			MinEntropy:  4.0,
			Valid:       notPlaceholder,
			TruePositives: []string{
				"SENDGRID_API_KEY=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",
			},
			FalsePositives: []string{
				"SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
				"msg.ngeVfQFYQlKU0ufo8x5d1A",
			},
		},
		{
			ID:          "private-key",
			Description: "private key block",
			Keywords:    []string{"PRIVATE KEY"},
			Regex: regexp.MustCompile(`-----BEGIN[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----(?:\s|\\n)*` +
				`((?:[A-Za-z0-9+/=]{16,}(?:\s|\\[nr])*|[A-Za-z-]+: [^\n]*\n\s*)+?)` +
				`-----END[ A-Z0-9_-]{0,100}PRIVATE KEY(?: BLOCK)?-----`),
			SecretGroup: 1,
			Multiline:   true,
			MinEntropy:  4.0,
			Valid:       func(s string) bool { return len(strings.Join(strings.Fields(s), "")) >= 64 },
			TruePositives: []string{
				"-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi+\nZHa8l6u1K5fz3nRqW9wVYkzU4bCFh7qTpMjD2sNGxL0e\nXyRgA1oIvB6cQ8wE2tKs9PdHuJm4LnOp7Zr3aVfYb5Ci\n-----END RSA PRIVATE KEY-----",
				"key = \"-----BEGIN OPENSSH PRIVATE KEY-----\\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\\nQyNTUxOQAAACDh7kWz9yX4pL2mQ8vN3rT6sJ1cF5gH0bK7dY2eA9uI4w\\n-----END OPENSSH PRIVATE KEY-----\"",
			},
			FalsePositives: []string{
				"-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
				"-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi+ZHa8l6u1K5fz3nRqW9w\n-----END PUBLIC KEY-----",
				`if strings.HasPrefix(s, "-----BEGIN PRIVATE KEY-----") {`,
			},
		},
		{
			ID:          "jwt",
			Description: "JSON Web Token",
			Keywords:    []string{"eyJ"},
			Regex:       regexp.MustCompile(`\b(eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{16,})`),
			SecretGroup: 1,
			Valid:       validJWT,
			TruePositives: []string{
				"Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJzZXJ2aWNlLWJvdCIsInJvbGUiOiJhZG1pbiIsImlhdCI6MTcwMDAwMDAwMH0.k3Jq9vV0pL7mN2xQ8rT4sW6yZ1aB5cD0eF3gH9iJ2kE",
			},
			FalsePositives: []string{
				// The jwt.io example everybody pastes.
				"eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
				"eyJub3QiOiJhIGp3dCJ9.eyJzdWIiOiJ4In0.aaaaaaaaaaaaaaaaaaaa",
				"eyJhbGciOiJIUzI1NiJ9",
			},
		},
		{
			ID:          "database-url",
			Description: "database URL with a password",
			Keywords:    []string{"postgres", "mysql", "mariadb", "redis", "mongodb", "amqp"},
			Regex:       regexp.MustCompile(`\b(?:postgres(?:ql)?|mysql|mariadb|rediss?|mongodb(?:\+srv)?|amqps?)://([^:/\s@'"]*):([^@/\s'"]+)@[^\s'"]+`),
			SecretGroup: 2,
			Valid:       validDBPassword,
			TruePositives: []string{
				"DATABASE_URL=postgres://shop:Zq8vT3nP7wKx@db.internal:5432/shop",
				"REDIS_URL=redis://:h7Jk2LmQ9pWx4Rt@cache:6379/0",
				`uri: "mongodb+srv://app:N3w-P4ss_w0rd!@cluster0.mongodb.net/prod"`,
			},
			FalsePositives: []string{
				"postgres://user:password@localhost:5432/db",
				"postgres://postgres:postgres@localhost/test",
				"mysql://root:${MYSQL_PASSWORD}@db/app",
				"postgres://app@localhost/app",
				"redis://user:<password>@host:6379",
				"postgres://shop:****@db/shop",
			},
		},
		{
			ID:          "generic-secret",
			Description: "high-entropy password, secret or token assignment",
			Keywords:    []string{"password", "passwd", "secret", "token", "api_key", "apikey", "api-key", "access_key"},
			Regex: regexp.MustCompile(`(?i)(?:password|passwd|secret|token|api_?key|api-key|access_?key)[a-z0-9_.-]{0,20}` +
				`["']?\s*(?::=|=>|=|:)\s*(?:["'` + "`" + `]|b["'])?([A-Za-z0-9+/=_.~!@#%^&*-]{12,200})(?:["'` + "`" + `\s,;)]|$)`),
			SecretGroup: 1,
			MinEntropy:  3.5,
			Valid:       validGeneric,
			TruePositives: []string{
				"DB_PASSWORD=Xk9#mP2vQ7wL4zR8",
				`"client_secret": "8fJ2kL9qW3xN7vB4mZ1tR6yH"`,
				"api_key: 'a9F3kQ7xZ2mW8pL4vN6tB1rY'",
				"export SERVICE_TOKEN=q8W4eR7tY2uI9oP3aS6dF1gH",
			},
			FalsePositives: []string{
				"password = ${DB_PASSWORD}",
				"token: <your-token-here>",
				`secret = os.Getenv("APP_SECRET")`,
				"password=changeme",
				"TOKEN_TTL=3600",
				"password_reset_url = https",
				`id: 550e8400-e29b-41d4-a716-446655440000`,
				`secret_key_base: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"`,
				`token = "550e8400-e29b-41d4-a716-446655440000"`,
				`password: "correct_horse_battery_staple"`,
				"hs.hello.extendedMasterSecret = hs.clientHello.extendedMasterSecret",
				"tokens = 2*maxCompilerConcurrency + minTokens*cfg.BuildP",
				"token.AND_NOT_ASSIGN: token.AND_NOT,",
				`"PKG_SECRET_KEY":      "Docker_release_S3_bucket_secret_key",`,
				"token.style = yaml_FOLDED_SCALAR_STYLE",
				`X-Docker-Token: signature=123abc,repository="foo/bar",access=write`,
				`"identitytoken": "9cbaf023786cd7..."`,
			},
		},
	}
}

func validJWT(s string) bool {
	if strings.Contains(s, "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c") {
		return false // jwt.io's example
	}
	head, _, _ := strings.Cut(s, ".")
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return false
	}
	var h map[string]any
	if json.Unmarshal(raw, &h) != nil {
		return false
	}
	_, ok := h["alg"]
	return ok
}

var dbPlaceholders = map[string]bool{"password": true, "pass": true, "passwd": true, "secret": true, "root": true, "postgres": true, "mysql": true, "test": true, "admin": true, "redis": true, "changeme": true, "example": true, "pwd": true}

func validDBPassword(s string) bool {
	l := strings.ToLower(s)
	if dbPlaceholders[l] || strings.Trim(l, "*x.") == "" || strings.HasPrefix(s, "$") || strings.HasPrefix(s, "%") || strings.HasPrefix(s, "{") {
		return false
	}
	return notPlaceholder(s) && len(s) >= 6
}

var uuidRE = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

var (
	identPathRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+$`)
	operandRE   = regexp.MustCompile(`^(?:[A-Za-z_][A-Za-z0-9_.]*|[0-9]+)$`)
)

// looksLikeCode reports whether an unquoted value is an expression of the
// surrounding program (a.b.c, 2*max+min) rather than a literal.
func looksLikeCode(s string) bool {
	if identPathRE.MatchString(s) {
		return true
	}
	if !strings.ContainsAny(s, "*+/") {
		return false
	}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '*' || r == '+' || r == '/' }) {
		if !operandRE.MatchString(part) {
			return false
		}
	}
	return true
}

var (
	identRE = regexp.MustCompile(`^[A-Za-z0-9_]+$`)
	wordRE  = regexp.MustCompile(`[A-Za-z]{3,}`)
)

// snakeWords reports whether s is a snake_case name made of words
// (Docker_release_S3_bucket_key, yaml_FOLDED_SCALAR_STYLE): a name, not a
// random string.
func snakeWords(s string) bool {
	if !identRE.MatchString(s) {
		return false
	}
	parts := strings.Split(s, "_")
	words := 0
	for _, p := range parts {
		if wordRE.MatchString(p) {
			words++
		}
	}
	return len(parts) >= 3 && words >= len(parts)-1
}

func validGeneric(s string) bool {
	if !notPlaceholder(s) || uuidRE.MatchString(s) || looksLikeCode(s) || snakeWords(s) ||
		strings.Contains(strings.TrimRight(s, "="), "=") || strings.Contains(s, "...") {
		return false
	}
	// A credential mixes character classes; an identifier or a word does not.
	return charClasses(s) >= 3
}
