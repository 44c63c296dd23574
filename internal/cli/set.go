package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/slickenv/slickenv/internal/dotenv"
	"github.com/slickenv/slickenv/internal/environment"
	"github.com/slickenv/slickenv/internal/secret"
	"github.com/slickenv/slickenv/internal/store"
)

type setOptions struct {
	message string
	raw     bool
	json    bool
}

func newSetCommand(a *App) *cobra.Command {
	var o setOptions
	cmd := &cobra.Command{
		Use:   "set KEY=VALUE… | set KEY -",
		Short: "Set variables (one new version for all of them)",
		Long: `set writes one new version of the environment with the given variables.

  slickenv set API_URL=https://api.example.com LOG_LEVEL=debug
  slickenv set STRIPE_KEY -          # value from stdin: stays out of shell history
  slickenv set STRIPE_KEY            # on a terminal: prompts without echo

A value read from stdin loses one trailing newline ("\n" or "\r\n") unless
--raw is given. Values equal to the current ones are left alone; when nothing
changes, no version is written.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runSet(cmd, a, o, args) },
	}
	cmd.Flags().StringVarP(&o.message, "message", "m", "", "message recorded with the version")
	cmd.Flags().BoolVar(&o.raw, "raw", false, "keep a value read from stdin byte for byte")
	cmd.Flags().BoolVar(&o.json, "json", false, "print the result as JSON")
	return cmd
}

func runSet(cmd *cobra.Command, a *App, o setOptions, args []string) error {
	pairs, err := parseSetArgs(a, args, o.raw)
	if err != nil {
		return err
	}
	env, err := a.OpenEnv(cmd.Context(), true)
	if err != nil {
		return err
	}
	res, err := env.Apply(cmd.Context(), environment.Change{Kind: store.KindSet, Message: o.message, Set: pairs})
	return renderChange(a, env, res, err, o.json)
}

// parseSetArgs reads KEY=VALUE arguments, or KEY - (stdin), or a lone KEY
// (prompt on a terminal). Errors never include values.
func parseSetArgs(a *App, args []string, raw bool) ([]environment.Pair, error) {
	if len(args) == 2 && args[1] == "-" && !strings.Contains(args[0], "=") {
		if !dotenv.ValidKey(args[0]) {
			return nil, usageErrorf("invalid variable name %q: use letters, digits, '_', '.' and '-'", args[0])
		}
		b, err := io.ReadAll(a.Stdin)
		if err != nil {
			return nil, fmt.Errorf("read value of %s from stdin: %w", args[0], err)
		}
		s := string(b)
		if !raw {
			// One line ending, "\n" or "\r\n"; a lone trailing "\r" is data.
			if t, ok := strings.CutSuffix(s, "\n"); ok {
				s = strings.TrimSuffix(t, "\r")
			}
		}
		return []environment.Pair{{Name: args[0], Value: secret.New(s)}}, nil
	}
	if len(args) == 1 && !strings.Contains(args[0], "=") {
		if !dotenv.ValidKey(args[0]) {
			return nil, usageErrorf("invalid variable name %q: use letters, digits, '_', '.' and '-'", args[0])
		}
		f, ok := a.Stdin.(*os.File)
		if !ok || !term.IsTerminal(int(f.Fd())) {
			return nil, usageErrorf("no value for %s: use %s=VALUE, or `set %s -` to read it from stdin", args[0], args[0], args[0])
		}
		fmt.Fprintf(a.Stderr, "Value for %s (input hidden): ", args[0])
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.Stderr)
		if err != nil {
			return nil, fmt.Errorf("read value of %s: %w", args[0], err)
		}
		return []environment.Pair{{Name: args[0], Value: secret.FromBytes(b)}}, nil
	}
	var pairs []environment.Pair
	for _, arg := range args {
		k, v, ok := strings.Cut(arg, "=")
		if !ok {
			return nil, usageErrorf("argument %q is not KEY=VALUE (use `set KEY -` to read one value from stdin)", k)
		}
		if !dotenv.ValidKey(k) {
			return nil, usageErrorf("invalid variable name %q: use letters, digits, '_', '.' and '-'", k)
		}
		pairs = append(pairs, environment.Pair{Name: k, Value: secret.New(v)})
	}
	return pairs, nil
}

// renderChange prints the outcome of a write (set, unset, import, rollback).
func renderChange(a *App, env *environment.Env, res environment.Result, err error, asJSON bool) error {
	if errors.Is(err, environment.ErrNoChange) {
		if asJSON {
			return writeJSON(a.Stdout, changeJSON(env, res, false))
		}
		fmt.Fprintf(a.Stdout, "No change: %s already has these values (still v%d).\n", env.Name(), res.Base)
		return nil
	}
	if err != nil {
		return err
	}
	if asJSON {
		return writeJSON(a.Stdout, changeJSON(env, res, true))
	}
	var parts []string
	add := func(n int, what string) {
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, what))
		}
	}
	add(len(res.Added), "added")
	add(len(res.Changed), "changed")
	add(len(res.Removed), "removed")
	add(len(res.Unchanged), "unchanged")
	fmt.Fprintf(a.Stdout, "%s: v%d → v%d (%s)\n", env.Name(), res.Base, res.Version.Version, strings.Join(parts, ", "))
	return nil
}

func changeJSON(env *environment.Env, res environment.Result, written bool) map[string]any {
	nz := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	m := map[string]any{
		"env": env.Name(), "written": written, "base": res.Base,
		"added": nz(res.Added), "changed": nz(res.Changed), "removed": nz(res.Removed), "unchanged": nz(res.Unchanged),
	}
	if written {
		m["version"] = res.Version.Version
	} else {
		m["version"] = res.Base
	}
	return m
}
