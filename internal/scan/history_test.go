package scan

import (
	"context"
	"strings"
	"testing"
	"time"
)

// Planted secrets (not real credentials).
const (
	plantedAWS      = "AKIAZ5WQ3RJX2N7TLMPE"
	plantedStripe   = "sk_live_51HqLyjW8aB3kZ9xQ2mN7pR4tV6yC1dE0fG"
	plantedGitHub   = "ghp_R8sK2mQ9vX4tL7wN1bH5jF3dC6yP0aZ8eU2i"
	plantedSlack    = "xoxb-263594206564-2343594206574-FGqddMF8t08v8N7Oq4i57vs1"
	plantedSendGrid = "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"
	plantedKnown    = "Zq8vT3nP7wKx-known-9f2"
	plantedDBPass   = "h7Jk2LmQ9pWx4Rt"
	plantedPEMBody  = "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi+ZHa8l6u1K5fz3nRqW9wVYkzU4bCFh7qTpMjD2sNGxL0e"
)

type plantedRepo struct {
	*testRepo
	added, modified, deleted, branch, topic, merge string
}

func buildPlantedRepo(t *testing.T) *plantedRepo {
	r := &plantedRepo{testRepo: newTestRepo(t)}
	r.write("README.md", "# app\n")
	r.write("config/app.env", "APP=shop\nAWS_ACCESS_KEY_ID="+plantedAWS+"\n")
	r.added = r.commit("Alice", "2025-01-10T10:00:00Z", "add config")

	// Modified: the AWS key goes, a Stripe key and a database URL arrive.
	r.write("config/app.env", "APP=shop\nDATABASE_URL=postgres://shop:"+plantedDBPass+"@db:5432/shop\nSTRIPE_SECRET_KEY="+plantedStripe+"\n")
	r.modified = r.commit("Bob", "2025-02-10T10:00:00Z", "stripe")

	// Deleted: the file goes; a binary-looking file holds a known value and
	// a token that rules must not report inside binary data.
	r.remove("config/app.env")
	r.write("assets/blob.bin", "\x00\x01\x02PNG\x00"+plantedKnown+"\x00"+plantedGitHub+"\x00")
	r.deleted = r.commit("Carol", "2025-03-10T10:00:00Z", "remove config, add asset")

	// Another branch, never merged.
	r.git("checkout", "-q", "-b", "feature")
	r.write("feature/slack.txt", "notify via\n  token "+plantedSlack+"\n")
	r.branch = r.commit("Dave", "2025-04-10T10:00:00Z", "slack")

	// A topic branch merged back, and a secret that only the merge adds.
	r.git("checkout", "-q", "main")
	r.git("checkout", "-q", "-b", "topic")
	r.write("mail.txt", "SENDGRID_API_KEY="+plantedSendGrid+"\n")
	r.topic = r.commit("Erin", "2025-05-10T10:00:00Z", "sendgrid")
	r.git("checkout", "-q", "main")
	r.write("main.txt", "main moves on\n")
	r.commit("Alice", "2025-05-11T10:00:00Z", "main")
	r.gitAs("Frank", "2025-06-10T10:00:00Z", "merge", "-q", "--no-ff", "--no-commit", "topic")
	r.write("deploy/key.pem", "-----BEGIN RSA PRIVATE KEY-----\n"+plantedPEMBody[:40]+"\n"+plantedPEMBody[40:]+"\n-----END RSA PRIVATE KEY-----\n")
	r.git("add", "-A")
	r.gitAs("Frank", "2025-06-10T10:00:00Z", "commit", "-q", "-m", "merge topic")
	r.merge = r.git("rev-parse", "HEAD")
	return r
}

func TestHistoryPlanted(t *testing.T) {
	r := buildPlantedRepo(t)
	known := []KnownValue{{Value: secretValue(plantedKnown), Owners: []Owner{{Environment: "production", Variable: "ASSET_KEY", Live: true}}}}
	s := &Scanner{Detector: NewDetector(DefaultRules(), known)}
	res, err := s.Run(context.Background(), &History{Dir: r.dir, MaxSize: 10 << 20})
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		rule, secret, commit, author, path string
		line                               int
	}{
		{"aws-access-key", plantedAWS, r.added, "Alice", "config/app.env", 2},
		{"stripe-key", plantedStripe, r.modified, "Bob", "config/app.env", 3},
		{"database-url", plantedDBPass, r.modified, "Bob", "config/app.env", 2},
		{KnownValueRule, plantedKnown, r.deleted, "Carol", "assets/blob.bin", 1},
		{"slack-token", plantedSlack, r.branch, "Dave", "feature/slack.txt", 2},
		{"sendgrid-key", plantedSendGrid, r.topic, "Erin", "mail.txt", 1},
		{"private-key", "", r.merge, "Frank", "deploy/key.pem", 2},
	}
	if len(res.Findings) != len(want) {
		for _, f := range res.Findings {
			t.Logf("found %s at %s:%d in %s", f.RuleID, f.Path, f.Line, short(f.Commit.ID))
		}
		t.Fatalf("got %d findings, want %d", len(res.Findings), len(want))
	}
	for _, w := range want {
		t.Run(w.rule, func(t *testing.T) {
			for _, f := range res.Findings {
				if f.RuleID != w.rule {
					continue
				}
				if w.secret != "" && f.Secret.Reveal() != w.secret {
					t.Errorf("secret %q, want %q", f.Secret.Reveal(), w.secret)
				}
				if f.Commit.ID != w.commit || f.Commit.Author != w.author || f.Path != w.path || f.Line != w.line {
					t.Errorf("attributed to %s by %s at %s:%d, want %s by %s at %s:%d",
						short(f.Commit.ID), f.Commit.Author, f.Path, f.Line, short(w.commit), w.author, w.path, w.line)
				}
				return
			}
			t.Errorf("%s not found", w.rule)
		})
	}
	if res.BinaryBlobs != 1 {
		t.Errorf("BinaryBlobs = %d, want 1", res.BinaryBlobs)
	}
}

func TestHistorySinceAndIgnore(t *testing.T) {
	r := buildPlantedRepo(t)
	s := &Scanner{Detector: NewDetector(DefaultRules(), nil)}
	res, err := s.Run(context.Background(), &History{Dir: r.dir, Since: r.deleted, Ignore: NewPathFilter([]string{"feature/**"})})
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	for _, f := range res.Findings {
		rules = append(rules, f.RuleID)
	}
	got := strings.Join(rules, ",")
	if got != "sendgrid-key,private-key" && got != "private-key,sendgrid-key" {
		t.Errorf("--since and ignore: got %s, want sendgrid-key and private-key only", got)
	}
	if _, err := s.Run(context.Background(), &History{Dir: r.dir, Since: "nope"}); err == nil {
		t.Error("unknown --since revision: no error")
	}
}

// TestModifiedKeepsSecret: a secret that stays in a file across several
// edits is one finding, attributed to the commit that added it.
func TestModifiedKeepsSecret(t *testing.T) {
	r := newTestRepo(t)
	r.write("a.env", "K="+plantedAWS+"\n")
	first := r.commit("Alice", "2025-01-01T00:00:00Z", "1")
	r.write("a.env", "X=1\nK="+plantedAWS+"\n")
	r.commit("Bob", "2025-02-01T00:00:00Z", "2")
	r.write("a.env", "X=2\nK="+plantedAWS+"\n")
	r.commit("Bob", "2025-03-01T00:00:00Z", "3")
	res, err := (&Scanner{Detector: NewDetector(DefaultRules(), nil)}).Run(context.Background(), &History{Dir: r.dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Findings) != 1 {
		t.Fatalf("got %d findings, want 1", len(res.Findings))
	}
	f := res.Findings[0]
	if f.Commit.ID != first || f.Occurrences != 3 || f.Line != 1 {
		t.Errorf("got commit %s occurrences %d line %d, want %s, 3, 1", short(f.Commit.ID), f.Occurrences, f.Line, short(first))
	}
	if want := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC); !f.Commit.Date.Equal(want) {
		t.Errorf("date %v, want %v", f.Commit.Date, want)
	}
}

// TestLookAlikes: a repository full of things that look like secrets and
// are not reports nothing.
func TestLookAlikes(t *testing.T) {
	r := newTestRepo(t)
	r.write("docs/aws.md", "Set `AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE` and\n`AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY`.\n")
	r.write("ids.txt", "request 550e8400-e29b-41d4-a716-446655440000\nid: 6ba7b810-9dad-11d1-80b4-00c04fd430c8\n")
	r.write("go.sum", "github.com/x/y v1.0.0 h1:Uu8bCDRw4zdI8DyNMQ8KksgBxjr9DZmMWmnBnxjVFkc=\ngithub.com/x/y v1.0.0/go.mod h1:FrdkZ9eWM4aZOHGSNTfUHTSMbVEH6o2f8qkA0lnIwk4=\n")
	r.write("package-lock.json", `{"integrity": "sha512-5hK3cV7FrwqBz6RSVzXRg1JFfeY8ghn6uZjUdXUgWiLCpcu6j7z69OL68B9/NGxZQ7t4r8L0WGIGCsU2DaCyhg=="}`+"\n")
	r.write("hashes.txt", "commit 9fceb02d0ae598e95dc970b74767f19372d61af8\nsha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n")
	r.write("config.example.env", "DATABASE_URL=postgres://user:password@localhost:5432/app\nSTRIPE_SECRET_KEY=sk_live_xxxxxxxxxxxxxxxxxxxxxxxx\nGITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\nDB_PASSWORD=${DB_PASSWORD}\nAPI_TOKEN=<your-token-here>\nSLACK_TOKEN=xoxb-your-token-here\n")
	r.write("jwt.md", "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c\n")
	r.write("tls.go", "if strings.HasPrefix(pem, \"-----BEGIN PRIVATE KEY-----\") {\n\tpassword := os.Getenv(\"PASSWORD\")\n\ttoken = getToken(ctx)\n}\n")
	r.commit("Alice", "2025-01-01T00:00:00Z", "look-alikes")
	for _, src := range []Source{&History{Dir: r.dir}, &Tree{Root: r.dir}} {
		res, err := (&Scanner{Detector: NewDetector(DefaultRules(), nil)}).Run(context.Background(), src)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range res.Findings {
			t.Errorf("%T: false positive %s at %s:%d (%s)", src, f.RuleID, f.Path, f.Line, Redact(f.Secret))
		}
	}
}
