// Command mkfixture fills an environment of an existing slickenv store with
// a large, reproducible history for the benchmarks (see bench/README.md):
//
//	mkfixture -store PATH -project NAME [-env development] [-vars 1000] [-versions 10000] [-changes 3]
//
// The store and the environment must exist (run `slickenv init` first) and
// the environment must be empty. The identity is found as slickenv finds it
// (SLICKENV_IDENTITY, SLICKENV_IDENTITY_FILE, then the identity file). It
// prints the store's size after version 1 and at the end, and the bytes per
// version.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/slickenv/slickenv/bench/fixture"
	"github.com/slickenv/slickenv/internal/crypto"
	"github.com/slickenv/slickenv/internal/store/sqlstore"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "mkfixture: error:", err)
		os.Exit(1)
	}
}

func run() error {
	var spec fixture.Spec
	path := flag.String("store", "", "path of the store file (required)")
	flag.StringVar(&spec.Project, "project", "", "project name (required)")
	flag.StringVar(&spec.Env, "env", "development", "environment to fill (must exist and be empty)")
	flag.IntVar(&spec.Vars, "vars", 1000, "variables written by version 1")
	flag.IntVar(&spec.Versions, "versions", 10000, "versions in total")
	flag.IntVar(&spec.Changes, "changes", 3, "variables changed by each later version")
	flag.IntVar(&spec.ValueSize, "value-size", 32, "bytes per value")
	flag.Uint64Var(&spec.Seed, "seed", 1, "seed for names, values and changes")
	quiet := flag.Bool("q", false, "print nothing but errors")
	flag.Parse()
	if *path == "" || spec.Project == "" || flag.NArg() > 0 {
		flag.Usage()
		return fmt.Errorf("-store and -project are required")
	}
	ctx := context.Background()
	id, _, err := crypto.LoadIdentity(crypto.IdentityOptions{})
	if err != nil {
		return err
	}
	started := time.Now()
	progress := func(n int) {
		if !*quiet {
			fmt.Fprintf(os.Stderr, "\rmkfixture: %d/%d versions", n, spec.Versions)
		}
	}
	// Two passes, closing the store after each so that its log is
	// checkpointed: the size after version 1 and the size at the end.
	size := fixture.Size{Versions: spec.Versions, Changes: spec.Changes}
	for _, upTo := range []int{1, spec.Versions} {
		pass := spec
		pass.Versions = upTo
		if err := fill(ctx, *path, pass, id, progress); err != nil {
			return err
		}
		n, err := fixture.DiskBytes(*path)
		if err != nil {
			return err
		}
		size.First, size.Total = size.Total, n
	}
	if !*quiet {
		fmt.Fprintf(os.Stderr, "\rmkfixture: %s/%s: %d variables, %d versions, %d changes each, in %s\n",
			spec.Project, spec.Env, spec.Vars, spec.Versions, spec.Changes, time.Since(started).Round(time.Millisecond))
	}
	fmt.Print(size)
	return nil
}

func fill(ctx context.Context, path string, spec fixture.Spec, id *crypto.Identity, progress func(int)) error {
	st, err := sqlstore.OpenSQLite(ctx, path, sqlstore.SQLiteOptions{})
	if err != nil {
		return err
	}
	defer st.Close()
	env, err := st.Env(ctx, spec.Project, spec.Env)
	if err != nil {
		return err
	}
	if err := fixture.Fill(ctx, st, env, id, spec, progress); err != nil {
		return err
	}
	return st.Close()
}
