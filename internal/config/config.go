package config

import (
	"errors"
	"fmt"
	"io/fs"
	"math/bits"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// FileName is the name of the project file Find looks for.
const FileName = ".slickenv.yaml"

// ErrNotFound is returned (wrapped, naming the starting directory) by Find
// when no FileName exists in the directory or any of its parents.
var ErrNotFound = errors.New("no .slickenv.yaml found")

// Defaults Parse fills in for settings the file leaves out.
const (
	DefaultEnv          = "development"
	DefaultWarnAfter    = Duration(90 * Day)
	DefaultMaxAge       = Duration(180 * Day)
	DefaultWindow       = Duration(60 * time.Second)
	DefaultCheckEvery   = Duration(time.Second)
	DefaultMinSuccess   = 1.0
	DefaultDrainTimeout = Duration(5 * time.Minute)
)

// Config is a parsed and validated .slickenv.yaml.
type Config struct {
	Project    string // valid per ValidProjectName
	DefaultEnv string // valid per ValidEnvName; DefaultEnv ("development") when the file has none
	Store      string // as written: a path or an http(s) URL; "" for the default store
	Actor      string // name recorded in audit entries; "" when unset
	// Policy is the project policy as written; a zero field means the file
	// does not set it. Use SecretPolicy for the policy that applies.
	Policy  Policy
	Secrets map[string]Secret // keyed by variable name; nil when the file lists none
	Scan    Scan
	Path    string // absolute path of the file loaded; "" when parsed from bytes
}

// Policy bounds the age of a secret: past WarnAfter it is due, past MaxAge it
// has expired. Zero means "not set" (in SecretPolicy's result: no limit).
type Policy struct {
	WarnAfter Duration
	MaxAge    Duration
}

// Secret configures the rotation of one variable.
type Secret struct {
	Provider string // provider kind, e.g. "postgres"; "" for a manually managed secret
	// With holds the provider's settings as decoded from YAML (maps are
	// map[string]any, lists []any). Strings may contain ${NAME} references,
	// already checked for syntax; resolve them with ExpandSettings.
	With      map[string]any
	MaxAge    Duration // 0: the project's
	WarnAfter Duration // 0: derived, see SecretPolicy
	Targets   []Target // in file order
	Verify    Verify
}

// Target is one place a new value is delivered to after rotation. Exactly one
// field is set.
type Target struct {
	Dotenv  string        // path of a .env file whose entry is rewritten
	Command []string      // argv of a deploy hook; never empty when set
	Signal  *SignalTarget // a signal sent to the process in a pidfile
}

// SignalTarget sends Signal to the process whose pid is in Pidfile.
type SignalTarget struct {
	Pidfile string
	Signal  string // canonical name without the SIG prefix: HUP, TERM, INT, USR1, USR2 or QUIT
}

// Verify configures the verification window after deployment.
type Verify struct {
	Window  Duration // DefaultWindow when unset; an explicit 0s disables the window
	Approve string   // "", "auto" or "manual"; "" means auto
	Checks  []Check  // in file order
	Drain   *Drain   // nil: do not wait for the old credential to go idle
}

// Manual reports whether revoking the old credential waits for
// `slickenv rotate NAME --approve`.
func (v Verify) Manual() bool { return v.Approve == "manual" }

// Check is one condition that must hold for the whole window. Exactly one field
// is set.
type Check struct {
	HTTP    *HTTPCheck
	Command []string // argv; exit status 0 means success; never empty when set
}

// HTTPCheck polls URL every Every; the check holds while the share of 2xx
// responses stays at or above MinSuccess.
type HTTPCheck struct {
	URL        string   // absolute http or https URL
	Every      Duration // DefaultCheckEvery when unset; always > 0
	MinSuccess float64  // in [0, 1]; DefaultMinSuccess (1.0) when unset
}

// Drain waits, after the switch, until the old credential has no sessions left.
type Drain struct {
	Timeout Duration // DefaultDrainTimeout when unset
}

// Scan configures `slickenv scan`.
type Scan struct {
	IgnorePaths []string // glob patterns; "**" matches any number of directories
}

// Find walks up from dir to the filesystem root and returns the path of the
// first FileName it finds. dir may be relative; the result is absolute. When
// there is none it returns an error wrapping ErrNotFound that names dir. An
// error other than "does not exist" while looking (permission denied, say)
// stops the walk and is returned, so a file further up is never picked by
// accident.
func Find(dir string) (string, error) {
	start, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find %s: %w", FileName, err)
	}
	for d := start; ; {
		candidate := filepath.Join(d, FileName)
		info, err := os.Stat(candidate)
		switch {
		case err == nil && info.Mode().IsRegular():
			return candidate, nil
		case err == nil:
			// A directory or device named like the file is not a project file.
		case errors.Is(err, fs.ErrNotExist) || isNotDir(err):
		default:
			return "", fmt.Errorf("find %s: %w", FileName, err)
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("%w in %s or any parent directory", ErrNotFound, start)
		}
		d = parent
	}
}

// Load reads and parses the file at path (see Parse). Errors name path. The
// returned Config's Path is the absolute path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	cfg, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	if abs, err := filepath.Abs(path); err == nil {
		cfg.Path = abs
	} else {
		cfg.Path = path
	}
	return cfg, nil
}

// SecretNames returns the names of the configured secrets, sorted.
func (c *Config) SecretNames() []string {
	names := make([]string, 0, len(c.Secrets))
	for name := range c.Secrets {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// SecretPolicy returns the effective policy for the variable name, whether or
// not the file configures it. The result never has WarnAfter > MaxAge when
// both are set, and a zero field means "no limit". The rules:
//
//   - Project policy: with no policy at all (neither field set), warn_after
//     90d and max_age 180d. With only max_age, warn_after is half of it. With
//     only warn_after, there is no max_age.
//   - A secret's own warn_after and max_age override the project's.
//   - A secret that sets max_age but not warn_after gets a warn_after of its
//     max_age scaled by the project's warn_after/max_age ratio as written
//     (1/2 when the project does not set both), never above its max_age.
//     With max_age: 30d under the default policy that is 15d; under
//     policy {warn_after: 60d, max_age: 90d} it is 20d.
//   - A secret that sets only warn_after keeps the project's max_age.
func (c *Config) SecretPolicy(name string) Policy {
	project := c.projectPolicy()
	s, ok := c.Secrets[name]
	if !ok {
		return clampPolicy(project)
	}
	effective := project
	if s.MaxAge > 0 {
		effective.MaxAge = s.MaxAge
	}
	switch {
	case s.WarnAfter > 0:
		effective.WarnAfter = s.WarnAfter
	case s.MaxAge > 0:
		num, den := Duration(1), Duration(2)
		if c.Policy.WarnAfter > 0 && c.Policy.MaxAge > 0 {
			num, den = c.Policy.WarnAfter, c.Policy.MaxAge
		}
		effective.WarnAfter = scale(s.MaxAge, num, den)
	}
	return clampPolicy(effective)
}

// projectPolicy is the project policy with the defaults of SecretPolicy's
// first rule applied.
func (c *Config) projectPolicy() Policy {
	p := c.Policy
	switch {
	case p.WarnAfter == 0 && p.MaxAge == 0:
		p = Policy{WarnAfter: DefaultWarnAfter, MaxAge: DefaultMaxAge}
	case p.WarnAfter == 0:
		p.WarnAfter = p.MaxAge / 2
	}
	return p
}

// clampPolicy keeps WarnAfter within MaxAge. Parse rejects files where that
// would change anything; a hand-built Config gets the safe reading.
func clampPolicy(p Policy) Policy {
	if p.MaxAge > 0 && p.WarnAfter > p.MaxAge {
		p.WarnAfter = p.MaxAge
	}
	return p
}

// scale returns d*num/den without overflow, capped at d (a ratio above one is
// treated as one).
func scale(d, num, den Duration) Duration {
	if d <= 0 || num <= 0 || den <= 0 {
		return 0
	}
	if num >= den {
		return d
	}
	hi, lo := bits.Mul64(uint64(d), uint64(num))
	q, _ := bits.Div64(hi, lo, uint64(den)) // hi < den because num < den
	return Duration(q)
}

// ValidProjectName reports whether s matches [a-z0-9][a-z0-9._-]{0,63}. A
// project name becomes a file name, so it is kept portable.
func ValidProjectName(s string) bool {
	if len(s) == 0 || len(s) > 64 || !isLowerAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLowerAlnum(c) && c != '.' && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// ValidEnvName reports whether s matches [a-z0-9][a-z0-9_-]*, at most 64 bytes.
func ValidEnvName(s string) bool {
	if len(s) == 0 || len(s) > 64 || !isLowerAlnum(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		if c := s[i]; !isLowerAlnum(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

// ValidSecretName reports whether s is a valid variable name: one or more of
// [A-Za-z0-9_.-], the keys a .env file accepts.
func ValidSecretName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLowerAlnum(c) && !('A' <= c && c <= 'Z') && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func isNotDir(err error) bool { return errors.Is(err, syscall.ENOTDIR) }

func isLowerAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }
