// Package scan finds secrets in files and in git history.
//
// # Sources
//
// A scan reads blobs from one source: the working tree (files tracked or
// not ignored by git, or every file outside a repository), the index
// (staged changes, for a pre-commit hook), or the whole history of every
// ref, where each unique blob is read exactly once through
// `git rev-list --objects` and one streaming `git cat-file --batch`.
//
// # Detectors
//
// Two detectors run over every blob in one pass each. Known values: every
// value of every version of every environment the identity can decrypt,
// matched with an Aho-Corasick automaton, so a finding names the variable
// and environment and says whether the value is still live. Rules: provider
// patterns (AWS, Stripe, GitHub, Slack, SendGrid, private keys, JWTs,
// database URLs, generic high-entropy assignments), each guarded by a
// keyword prefilter (one more automaton) so that no regular expression runs
// on a blob that cannot match it.
//
// # Secrets
//
// Findings carry the matched secret as a secret.Value: it prints redacted
// everywhere, and reports call Reveal only when asked not to redact.
package scan
