package scan

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/slickenv/slickenv/internal/audit"
	"github.com/slickenv/slickenv/internal/crypto"
	"github.com/slickenv/slickenv/internal/secret"
	"github.com/slickenv/slickenv/internal/store"
)

// KnownValueRule is the rule ID of known-value findings.
const KnownValueRule = "known-value"

// Known values shorter than MinKnownLength bytes, or with less than
// MinKnownEntropy bits per byte, are not looked for: they would match
// ordinary text ("production", "localhost", "8080").
const (
	MinKnownLength  = 8
	MinKnownEntropy = 3.0
)

// Owner is one variable of one environment that held a value.
type Owner struct {
	Environment string
	Variable    string
	Live        bool      // the variable's current value at head
	RetiredAt   time.Time // when !Live: the time of the version that replaced it
}

// Status is "live" or "retired".
func (o Owner) Status() string {
	if o.Live {
		return "live"
	}
	return "retired"
}

// KnownValue is one distinct plaintext and every variable that held it.
type KnownValue struct {
	Value  secret.Value
	Owners []Owner // live owners first, then by environment and variable
}

// Primary is the owner a report leads with: a live one when there is one.
func (k *KnownValue) Primary() Owner {
	if len(k.Owners) == 0 {
		return Owner{}
	}
	return k.Owners[0]
}

// KnownSet is what LoadKnown found.
type KnownSet struct {
	Values       []KnownValue
	Skipped      int      // values not looked for: short or low entropy
	Environments []string // environments whose values are included
	Notes        []string // environments left out, and why
}

// LoadKnown decrypts every value of every version of every environment of
// project that id can decrypt. Before it decrypts anything it appends one
// audit entry (action "scan", naming the environments, never a value); if
// that fails it returns the error and no value. Environments id is not a
// recipient of are left out with a note.
func LoadKnown(ctx context.Context, st store.Store, project string, id *crypto.Identity, actor string) (KnownSet, error) {
	var ks KnownSet
	envs, err := st.Envs(ctx, project)
	if err != nil {
		return ks, err
	}
	type unlocked struct {
		env store.Env
		dek *crypto.DEK
	}
	var open []unlocked
	for _, e := range envs {
		keys, err := st.EnvKeys(ctx, e.ID)
		if err != nil {
			return ks, err
		}
		var dek *crypto.DEK
		for _, k := range keys {
			if k.Recipient == id.Recipient() {
				if dek, err = crypto.UnwrapDEK(k.WrappedDEK, id); err != nil {
					return ks, fmt.Errorf("environment %s: %w", e.Name, err)
				}
			}
		}
		if dek == nil {
			ks.Notes = append(ks.Notes, fmt.Sprintf("environment %s: this identity cannot decrypt it; its values are not looked for", e.Name))
			continue
		}
		open = append(open, unlocked{e, dek})
		ks.Environments = append(ks.Environments, e.Name)
	}
	if len(open) == 0 {
		return ks, nil
	}
	if _, err := st.AppendAudit(ctx, project, audit.Record{Actor: actor, Action: "scan",
		Detail: map[string]any{"environments": ks.Environments}}); err != nil {
		return ks, fmt.Errorf("audit scan: %w", err)
	}
	index := map[string]int{} // plaintext → index in ks.Values
	skipped := map[string]bool{}
	for _, u := range open {
		versions, err := st.Versions(ctx, u.env.ID, store.VersionQuery{})
		if err != nil {
			return ks, err
		}
		names := map[string]bool{}
		for _, v := range versions {
			for _, n := range v.Names {
				names[n] = true
			}
		}
		for _, name := range sortedKeys(names) {
			rows, err := st.ValueHistory(ctx, u.env.ID, name, 0) // newest first
			if err != nil {
				return ks, err
			}
			var current secret.Value
			if len(rows) > 0 && !rows[0].Deleted {
				if current, err = u.dek.Open(crypto.Slot{Project: project, Env: u.env.Name, Name: name}, rows[0].Ciphertext); err != nil {
					return ks, fmt.Errorf("decrypt %s/%s (v%d): %w", u.env.Name, name, rows[0].EnvVersion, err)
				}
			}
			seen := map[string]bool{}
			for i, r := range rows {
				if r.Deleted {
					continue
				}
				val, err := u.dek.Open(crypto.Slot{Project: project, Env: u.env.Name, Name: name}, r.Ciphertext)
				if err != nil {
					return ks, fmt.Errorf("decrypt %s/%s (v%d): %w", u.env.Name, name, r.EnvVersion, err)
				}
				plain := val.Reveal()
				if seen[plain] {
					continue // an older occurrence of a value seen more recently
				}
				seen[plain] = true
				if len(plain) < MinKnownLength || entropy(plain) < MinKnownEntropy {
					skipped[u.env.Name+"\x00"+name+"\x00"+plain] = true
					continue
				}
				o := Owner{Environment: u.env.Name, Variable: name, Live: !current.IsEmpty() && val.Equal(current)}
				if !o.Live && i > 0 {
					o.RetiredAt = rows[i-1].CreatedAt
				}
				j, ok := index[plain]
				if !ok {
					j = len(ks.Values)
					index[plain] = j
					ks.Values = append(ks.Values, KnownValue{Value: val})
				}
				ks.Values[j].Owners = append(ks.Values[j].Owners, o)
			}
		}
	}
	ks.Skipped = len(skipped)
	for i := range ks.Values {
		slices.SortStableFunc(ks.Values[i].Owners, func(a, b Owner) int {
			if a.Live != b.Live {
				if a.Live {
					return -1
				}
				return 1
			}
			return b.RetiredAt.Compare(a.RetiredAt)
		})
	}
	return ks, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
