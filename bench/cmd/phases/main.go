// Command phases times, inside one fresh process, each step that
// `slickenv run` and `slickenv get`/`export` take before they hand over to the
// child or print: loading the identity, opening the store (schema check
// included), looking up the environment, unwrapping its data key, reading
// the snapshot, appending the audit entry and decrypting. The first
// measurement of a phase in a process includes its one-time costs (page
// faults, SQLite parsing the schema), which is what a CLI invocation pays.
//
//	phases -store PATH -project NAME [-env development] [-n 1]
//
// It prints one line per run: the phase durations in microseconds, then the
// total, so that bench/run.sh can take medians over many processes.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/slickenv/slickenv/internal/audit"
	"github.com/slickenv/slickenv/internal/crypto"
	"github.com/slickenv/slickenv/internal/store/sqlstore"
)

func main() {
	path := flag.String("store", "", "path of the store file (required)")
	project := flag.String("project", "", "project name (required)")
	envName := flag.String("env", "development", "environment")
	header := flag.Bool("header", false, "print the column names first")
	flag.Parse()
	if *path == "" || *project == "" {
		flag.Usage()
		os.Exit(2)
	}
	if err := run(*path, *project, *envName, *header); err != nil {
		fmt.Fprintln(os.Stderr, "phases: error:", err)
		os.Exit(1)
	}
}

type timer struct {
	last  time.Time
	names []string
	times []time.Duration
}

func (t *timer) mark(name string) {
	now := time.Now()
	t.names = append(t.names, name)
	t.times = append(t.times, now.Sub(t.last))
	t.last = now
}

func run(path, project, envName string, header bool) error {
	ctx := context.Background()
	start := time.Now()
	t := &timer{last: start}
	id, _, err := crypto.LoadIdentity(crypto.IdentityOptions{})
	if err != nil {
		return err
	}
	t.mark("identity")
	st, err := sqlstore.OpenSQLite(ctx, path, sqlstore.SQLiteOptions{})
	if err != nil {
		return err
	}
	defer st.Close()
	t.mark("open")
	env, err := st.Env(ctx, project, envName)
	if err != nil {
		return err
	}
	keys, err := st.EnvKeys(ctx, env.ID)
	if err != nil {
		return err
	}
	t.mark("env")
	var dek *crypto.DEK
	for _, k := range keys {
		if k.Recipient == id.Recipient() {
			if dek, err = crypto.UnwrapDEK(k.WrappedDEK, id); err != nil {
				return err
			}
		}
	}
	if dek == nil {
		return fmt.Errorf("environment %s is not wrapped for this identity", envName)
	}
	t.mark("unwrap")
	head, err := st.Head(ctx, env.ID)
	if err != nil {
		return err
	}
	t.mark("head")
	rows, err := st.Snapshot(ctx, env.ID, head.Version)
	if err != nil {
		return err
	}
	t.mark("snapshot")
	if _, err := st.AppendAudit(ctx, project, audit.Record{Actor: "bench", Action: "run", Env: envName, Version: head.Version, Detail: map[string]any{"count": len(rows)}}); err != nil {
		return err
	}
	t.mark("audit")
	for _, r := range rows {
		if _, err := dek.Open(crypto.Slot{Project: project, Env: envName, Name: r.Name}, r.Ciphertext); err != nil {
			return err
		}
	}
	t.mark("decrypt")
	if err := st.Close(); err != nil {
		return err
	}
	t.mark("close")
	total := time.Since(start)
	if header {
		fmt.Println(strings.Join(append(t.names, "total"), "\t"))
	}
	var b strings.Builder
	for _, d := range t.times {
		fmt.Fprintf(&b, "%d\t", d.Microseconds())
	}
	fmt.Fprintf(&b, "%d", total.Microseconds())
	fmt.Println(b.String())
	return nil
}
