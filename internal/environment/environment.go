// Package environment is the domain layer over a store: it opens an
// environment with an identity, seals and opens values, computes what a
// change really changes, and writes each change as one new version with its
// audit entry.
//
// Methods that reveal values (Get, Values) append an audit entry before
// returning anything; when the entry cannot be written they return the error
// and no value (the audit log fails closed).
package environment

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slickenv/slickenv/internal/audit"
	"github.com/slickenv/slickenv/internal/crypto"
	"github.com/slickenv/slickenv/internal/secret"
	"github.com/slickenv/slickenv/internal/store"
)

// Sentinel errors.
var (
	// ErrNoChange is returned by Apply and Rollback when the change would not
	// alter any value; no version is written.
	ErrNoChange = errors.New("nothing changed")
	// ErrLocked is returned by methods that need the data key before Unlock.
	ErrLocked = errors.New("environment is locked: no identity unlocked it")
)

// Env is one opened environment of a project.
type Env struct {
	st    store.Store
	env   store.Env
	actor string
	dek   *crypto.DEK
}

// Open opens an existing environment. An unknown environment is an error
// wrapping store.ErrNotFound that lists the environments that exist.
func Open(ctx context.Context, st store.Store, project, name, actor string) (*Env, error) {
	e, err := st.Env(ctx, project, name)
	if errors.Is(err, store.ErrNotFound) {
		envs, lerr := st.Envs(ctx, project)
		if lerr != nil {
			return nil, err
		}
		var names []string
		for _, x := range envs {
			names = append(names, x.Name)
		}
		if len(names) == 0 {
			return nil, store.Errorf(store.ErrNotFound, "unknown environment %q: project %s has no environments (run slickenv init)", name, project)
		}
		return nil, store.Errorf(store.ErrNotFound, "unknown environment %q (have: %s)", name, strings.Join(names, ", "))
	}
	if err != nil {
		return nil, err
	}
	return &Env{st: st, env: e, actor: actor}, nil
}

// Create creates an environment with a fresh data key wrapped for each
// recipient. It returns store.ErrExists (wrapped) when it exists.
func Create(ctx context.Context, st store.Store, project, name, actor string, recipients []string) (*Env, error) {
	if len(recipients) == 0 {
		return nil, errors.New("create environment: no recipients")
	}
	dek, err := crypto.NewDEK()
	if err != nil {
		return nil, err
	}
	keys := make([]store.EnvKey, 0, len(recipients))
	for _, r := range recipients {
		w, err := crypto.WrapDEK(dek, r)
		if err != nil {
			return nil, fmt.Errorf("create environment %s: wrap key for %s: %w", name, r, err)
		}
		keys = append(keys, store.EnvKey{Recipient: r, WrappedDEK: w})
	}
	e, err := st.CreateEnv(ctx, project, name, keys, audit.Record{Actor: actor, Action: "env.create", Detail: map[string]any{"recipients": recipients}})
	if err != nil {
		return nil, err
	}
	return &Env{st: st, env: e, actor: actor, dek: dek}, nil
}

// Name returns the environment's name.
func (e *Env) Name() string { return e.env.Name }

// Project returns the project's name.
func (e *Env) Project() string { return e.env.Project }

// Store returns the underlying store.
func (e *Env) Store() store.Store { return e.st }

// Actor returns the actor recorded in audit entries.
func (e *Env) Actor() string { return e.actor }

// Unlock unwraps the environment's data key with id. When the key is not
// wrapped for id's recipient, the error wraps crypto.ErrNoAccess and says
// which recipient to add.
func (e *Env) Unlock(ctx context.Context, id *crypto.Identity) error {
	keys, err := e.st.EnvKeys(ctx, e.env.ID)
	if err != nil {
		return err
	}
	me := id.Recipient()
	for _, k := range keys {
		if k.Recipient != me {
			continue
		}
		dek, err := crypto.UnwrapDEK(k.WrappedDEK, id)
		if err != nil {
			return fmt.Errorf("environment %s: %w", e.env.Name, err)
		}
		e.dek = dek
		return nil
	}
	return &AccessError{Env: e.env.Name, Recipient: me}
}

// AccessError says that an identity is not a recipient of an environment.
type AccessError struct {
	Env       string
	Recipient string
}

func (a *AccessError) Error() string {
	return fmt.Sprintf("this identity cannot decrypt environment %s; ask a member to add recipient %s", a.Env, a.Recipient)
}

// Unwrap makes errors.Is(err, crypto.ErrNoAccess) true.
func (a *AccessError) Unwrap() error { return crypto.ErrNoAccess }

func (e *Env) slot(name string) crypto.Slot {
	return crypto.Slot{Project: e.env.Project, Env: e.env.Name, Name: name}
}

func (e *Env) needKey() error {
	if e.dek == nil {
		return ErrLocked
	}
	return nil
}

// Head returns the newest version (0 for an empty environment).
func (e *Env) Head(ctx context.Context) (store.EnvVersion, error) {
	return e.st.Head(ctx, e.env.ID)
}

// Resolve turns a user-given version (0 = head) into an existing version.
// Unknown versions wrap store.ErrNotFound.
func (e *Env) Resolve(ctx context.Context, version int64) (store.EnvVersion, error) {
	head, err := e.Head(ctx)
	if err != nil {
		return head, err
	}
	if version == 0 || version == head.Version {
		return head, nil
	}
	if version < 0 || version > head.Version {
		return store.EnvVersion{}, store.Errorf(store.ErrNotFound, "environment %s has no version %d (latest is v%d)", e.env.Name, version, head.Version)
	}
	return e.st.Version(ctx, e.env.ID, version)
}

// Variable is a variable's metadata at some version (no value).
type Variable struct {
	Name        string
	Version     int64     // the environment version that last changed it
	Since       time.Time // when its current value first entered the environment
	ChangedAt   time.Time
	Actor       string
	Fingerprint []byte
}

// Variables lists the variables as of version (0 = head), by name.
// It needs no key.
func (e *Env) Variables(ctx context.Context, version int64) ([]Variable, store.EnvVersion, error) {
	v, err := e.Resolve(ctx, version)
	if err != nil {
		return nil, v, err
	}
	rows, err := e.st.Snapshot(ctx, e.env.ID, v.Version)
	if err != nil {
		return nil, v, err
	}
	out := make([]Variable, len(rows))
	for i, r := range rows {
		out[i] = Variable{Name: r.Name, Version: r.EnvVersion, Since: r.ValueSince, ChangedAt: r.CreatedAt, Actor: r.Actor, Fingerprint: r.Fingerprint}
	}
	return out, v, nil
}

// Pair is a decrypted variable.
type Pair struct {
	Name  string
	Value secret.Value
}

// Values decrypts the environment as of version (0 = head), by name. It
// first appends an audit entry with action (e.g. "export", "run") naming
// the version read; if that fails, nothing is decrypted.
func (e *Env) Values(ctx context.Context, version int64, action string) ([]Pair, store.EnvVersion, error) {
	if err := e.needKey(); err != nil {
		return nil, store.EnvVersion{}, err
	}
	v, err := e.Resolve(ctx, version)
	if err != nil {
		return nil, v, err
	}
	rows, err := e.st.Snapshot(ctx, e.env.ID, v.Version)
	if err != nil {
		return nil, v, err
	}
	if _, err := e.st.AppendAudit(ctx, e.env.Project, audit.Record{Actor: e.actor, Action: action, Env: e.env.Name, Version: v.Version, Detail: map[string]any{"count": len(rows)}}); err != nil {
		return nil, v, fmt.Errorf("audit %s: %w", action, err)
	}
	out := make([]Pair, len(rows))
	for i, r := range rows {
		val, err := e.dek.Open(e.slot(r.Name), r.Ciphertext)
		if err != nil {
			return nil, v, fmt.Errorf("decrypt %s (v%d): %w", r.Name, r.EnvVersion, err)
		}
		out[i] = Pair{Name: r.Name, Value: val}
	}
	return out, v, nil
}

// Get decrypts one variable as of version (0 = head), after appending a
// "get" audit entry. A variable not set at that version wraps
// store.ErrNotFound.
func (e *Env) Get(ctx context.Context, name string, version int64) (secret.Value, Variable, error) {
	if err := e.needKey(); err != nil {
		return secret.Value{}, Variable{}, err
	}
	v, err := e.Resolve(ctx, version)
	if err != nil {
		return secret.Value{}, Variable{}, err
	}
	r, err := e.st.Value(ctx, e.env.ID, name, v.Version)
	if errors.Is(err, store.ErrNotFound) {
		return secret.Value{}, Variable{}, store.Errorf(store.ErrNotFound, "%s is not set in %s at v%d", name, e.env.Name, v.Version)
	}
	if err != nil {
		return secret.Value{}, Variable{}, err
	}
	if _, err := e.st.AppendAudit(ctx, e.env.Project, audit.Record{Actor: e.actor, Action: "get", Env: e.env.Name, Name: name, Version: v.Version}); err != nil {
		return secret.Value{}, Variable{}, fmt.Errorf("audit get: %w", err)
	}
	val, err := e.dek.Open(e.slot(name), r.Ciphertext)
	if err != nil {
		return secret.Value{}, Variable{}, fmt.Errorf("decrypt %s (v%d): %w", name, r.EnvVersion, err)
	}
	return val, Variable{Name: name, Version: r.EnvVersion, Since: r.ValueSince, ChangedAt: r.CreatedAt, Actor: r.Actor, Fingerprint: r.Fingerprint}, nil
}

// ID returns the store's id of the environment.
func (e *Env) ID() int64 { return e.env.ID }

// SealBlob seals data under the environment's key with associated data ad
// (the rotation journal's pending values).
func (e *Env) SealBlob(ad string, data []byte) ([]byte, error) {
	if err := e.needKey(); err != nil {
		return nil, err
	}
	return e.dek.SealBlob(ad, data)
}

// OpenBlob opens what SealBlob sealed.
func (e *Env) OpenBlob(ad string, ciphertext []byte) ([]byte, error) {
	if err := e.needKey(); err != nil {
		return nil, err
	}
	return e.dek.OpenBlob(ad, ciphertext)
}
