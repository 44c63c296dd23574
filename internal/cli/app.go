// Package cli implements the slickenv command line: one file per command,
// each parsing flags, calling a domain package and rendering the result.
// Errors are mapped to exit codes in exit.go, and nowhere else.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/slickenv/slickenv/internal/config"
	"github.com/slickenv/slickenv/internal/crypto"
	"github.com/slickenv/slickenv/internal/environment"
	"github.com/slickenv/slickenv/internal/store"
	"github.com/slickenv/slickenv/internal/store/sqlstore"
)

// App carries what every command needs: the process's streams and
// environment, and the lazily loaded project, store and identity.
type App struct {
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// Wd is the working directory.
	Wd string

	configPath string // --config
	envFlag    string // -e/--env

	// createStore lets Store create a missing store file (init only).
	createStore bool

	cfg   *config.Config
	st    store.Store
	id    *crypto.Identity
	idSrc string
}

// NewApp returns an App on the process's real streams and environment.
func NewApp() *App {
	wd, _ := os.Getwd()
	return &App{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Wd: wd}
}

// Close releases the store.
func (a *App) Close() {
	if a.st != nil {
		a.st.Close()
		a.st = nil
	}
}

// Config loads .slickenv.yaml (--config, or found walking up from Wd).
func (a *App) Config() (*config.Config, error) {
	if a.cfg != nil {
		return a.cfg, nil
	}
	path := a.configPath
	if path == "" {
		p, err := config.Find(a.Wd)
		if err != nil {
			return nil, withHint(err, "run `slickenv init` in your project's root, or pass --config PATH")
		}
		path = p
	}
	cfg, err := config.Load(path)
	if err != nil {
		return nil, err
	}
	a.cfg = cfg
	return cfg, nil
}

// EnvName is the environment to act on: -e, then SLICKENV_ENV, then the
// project's default_env.
func (a *App) EnvName() (string, error) {
	name := a.envFlag
	if name == "" {
		name = a.Getenv("SLICKENV_ENV")
	}
	if name == "" {
		cfg, err := a.Config()
		if err != nil {
			return "", err
		}
		name = cfg.DefaultEnv
	}
	if !config.ValidEnvName(name) {
		return "", usageErrorf("invalid environment name %q: use lowercase letters, digits, '-' and '_'", name)
	}
	return name, nil
}

func (a *App) dataDir() (string, error) {
	if d := a.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "slickenv"), nil
	}
	home := a.Getenv("HOME")
	if home == "" {
		return "", errors.New("cannot locate the data directory: neither XDG_DATA_HOME nor HOME is set")
	}
	return filepath.Join(home, ".local", "share", "slickenv"), nil
}

// StorePath returns where the project's store is: SLICKENV_STORE, then
// `store:` in the config (relative to the config file), then
// $XDG_DATA_HOME/slickenv/projects/<project>.db. An http(s) URL names a
// `slickenv server` (see isURL).
func (a *App) StorePath() (string, error) {
	cfg, err := a.Config()
	if err != nil {
		return "", err
	}
	loc := a.Getenv("SLICKENV_STORE")
	if loc == "" && cfg.Store != "" {
		loc = cfg.Store
		if !filepath.IsAbs(loc) && !isURL(loc) && cfg.Path != "" {
			loc = filepath.Join(filepath.Dir(cfg.Path), loc)
		}
	}
	if loc == "" {
		dir, err := a.dataDir()
		if err != nil {
			return "", err
		}
		loc = filepath.Join(dir, "projects", cfg.Project+".db")
	}
	return loc, nil
}

func isURL(s string) bool { return strings.HasPrefix(s, "https://") || strings.HasPrefix(s, "http://") }

// Store opens the project's store. SLICKENV_LOCK_TIMEOUT (a duration)
// bounds how long a write waits for another process's lock (default 5s).
func (a *App) Store(ctx context.Context) (store.Store, error) {
	if a.st != nil {
		return a.st, nil
	}
	path, err := a.StorePath()
	if err != nil {
		return nil, err
	}
	if isURL(path) {
		st, err := a.openServerStore(path) // login.go
		if err != nil {
			return nil, err
		}
		a.st = st
		return st, nil
	}
	if !a.createStore {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			return nil, withHint(store.Errorf(store.ErrNotFound, "store %s does not exist", path),
				"run `slickenv init` to create it, or point SLICKENV_STORE (or store: in .slickenv.yaml) at the right file")
		}
	}
	opts := sqlstore.SQLiteOptions{ReadOnly: readOnlyFile(path)}
	if v := a.Getenv("SLICKENV_LOCK_TIMEOUT"); v != "" {
		d, err := config.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, withHint(fmt.Errorf("invalid SLICKENV_LOCK_TIMEOUT %q", v), "use a positive duration like 500ms or 10s, or unset it (default 5s)")
		}
		opts.BusyTimeout = d.Std()
	}
	st, err := sqlstore.OpenSQLite(ctx, path, opts)
	if err != nil {
		return nil, err
	}
	a.st = st
	return st, nil
}

// readOnlyFile reports whether an existing store file cannot be opened for
// writing by this process (so it is opened read-only, and reads still work).
func readOnlyFile(path string) bool {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return errors.Is(err, os.ErrPermission) || strings.Contains(err.Error(), "read-only file system")
	}
	f.Close()
	return false
}

// ConfigDir is slickenv's config directory (identity, tokens).
func (a *App) ConfigDir() (string, error) { return crypto.DefaultConfigDir(a.Getenv) }

// Identity loads the identity (SLICKENV_IDENTITY, SLICKENV_IDENTITY_FILE,
// or the identity file).
func (a *App) Identity() (*crypto.Identity, error) {
	if a.id != nil {
		return a.id, nil
	}
	id, src, err := crypto.LoadIdentity(crypto.IdentityOptions{Getenv: a.Getenv})
	if errors.Is(err, crypto.ErrNoIdentity) {
		return nil, withHint(err, "run `slickenv init` to create one, or set SLICKENV_IDENTITY / SLICKENV_IDENTITY_FILE")
	}
	if err != nil {
		return nil, err
	}
	a.id, a.idSrc = id, src
	return id, nil
}

// Actor is the name recorded in audit entries: SLICKENV_ACTOR, the config's
// actor, or the identity's recipient.
func (a *App) Actor() string {
	if v := a.Getenv("SLICKENV_ACTOR"); v != "" {
		return v
	}
	if a.cfg != nil && a.cfg.Actor != "" {
		return a.cfg.Actor
	}
	if id, err := a.Identity(); err == nil {
		return id.Recipient()
	}
	return "unknown"
}

// OpenEnv opens the selected environment; with unlock it also unwraps the
// data key with the identity.
func (a *App) OpenEnv(ctx context.Context, unlock bool) (*environment.Env, error) {
	cfg, err := a.Config()
	if err != nil {
		return nil, err
	}
	name, err := a.EnvName()
	if err != nil {
		return nil, err
	}
	var id *crypto.Identity
	if unlock {
		if id, err = a.Identity(); err != nil {
			return nil, err
		}
	}
	st, err := a.Store(ctx)
	if err != nil {
		return nil, err
	}
	env, err := environment.Open(ctx, st, cfg.Project, name, a.Actor())
	if err != nil {
		return nil, err
	}
	if unlock {
		if err := env.Unlock(ctx, id); err != nil {
			return nil, err
		}
	}
	return env, nil
}

// defaultProjectName derives a project name from a directory name.
func defaultProjectName(dir string) string {
	n := regexp.MustCompile(`[^a-z0-9._-]+`).ReplaceAllString(strings.ToLower(filepath.Base(dir)), "-")
	n = strings.TrimLeft(n, "._-")
	if len(n) > 64 {
		n = n[:64]
	}
	if !config.ValidProjectName(n) {
		return "app"
	}
	return n
}
