// Command rotate-under-load measures what an application's clients see while
// slickenv rotates its PostgreSQL password: a constant-rate load on the
// example orders service (examples/demoapp) for the whole of N consecutive
// rotations of DATABASE_URL, once with `slickenv run --watch --listen`
// (socket handoff) and once with a plain restart (`run --watch` alone).
//
// It prints one table (requests, failures, latency before and during the
// rotations) and draws every request in an SVG. run.sh builds the binaries,
// starts a throwaway PostgreSQL and runs it; see bench/README.md.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

type options struct {
	slickenv, demoapp, adminURL, out string
	rate, readFraction               float64
	rotations                        int
	window, before, after, timeout   time.Duration
	modes                            string
	keep                             bool
	loadBefore, loadAfter            string // /proc/loadavg, for the notes
}

func main() {
	var o options
	flag.StringVar(&o.slickenv, "slickenv", "slickenv", "slickenv binary")
	flag.StringVar(&o.demoapp, "demoapp", "demoapp", "examples/demoapp binary")
	flag.StringVar(&o.adminURL, "admin-url", os.Getenv("SLICKENV_TEST_POSTGRES_URL"), "PostgreSQL superuser URL (a throwaway server: roles are created)")
	flag.StringVar(&o.out, "out", ".", "directory for results.txt and latest.svg")
	flag.Float64Var(&o.rate, "rate", 200, "requests per second (open loop)")
	flag.Float64Var(&o.readFraction, "reads", 0.8, "fraction of requests that are reads")
	flag.IntVar(&o.rotations, "rotations", 5, "consecutive rotations per mode")
	flag.DurationVar(&o.window, "window", 3*time.Second, "verification window of each rotation")
	flag.DurationVar(&o.before, "before", 5*time.Second, "load before the first rotation (the first second is warm-up)")
	flag.DurationVar(&o.after, "after", 2*time.Second, "load after the last rotation")
	flag.DurationVar(&o.timeout, "timeout", 2*time.Second, "per-request timeout (a request that takes longer failed)")
	flag.StringVar(&o.modes, "modes", "handoff,restart", "modes to run, in order")
	flag.BoolVar(&o.keep, "keep", false, "keep the work directory")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "rotate-under-load: error: %v\n", err)
		os.Exit(1)
	}
}

func run(o options) error {
	if o.adminURL == "" {
		return fmt.Errorf("no -admin-url (or SLICKENV_TEST_POSTGRES_URL)")
	}
	if o.rotations < 1 || o.rotations > 50 || o.rate <= 0 || o.rate > 5000 {
		return fmt.Errorf("-rotations must be 1..50 and -rate 0..5000")
	}
	for _, p := range []*string{&o.slickenv, &o.demoapp} {
		abs, err := filepath.Abs(*p)
		if err != nil {
			return err
		}
		*p = abs
	}
	work, err := os.MkdirTemp("", "slickenv-rotate-under-load.")
	if err != nil {
		return err
	}
	if o.keep {
		logf("keeping %s", work)
	} else {
		defer os.RemoveAll(work)
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return err
	}
	p, err := newProject(o, work, addr)
	if err != nil {
		return err
	}
	o.loadBefore = loadAverage()
	var runs []modeRun
	for _, mode := range strings.Split(o.modes, ",") {
		if mode != "handoff" && mode != "restart" {
			return fmt.Errorf("unknown mode %q (handoff, restart)", mode)
		}
		logf("mode %s: %d rotations at %.0f req/s", mode, o.rotations, o.rate)
		r, err := p.runMode(mode)
		if err != nil {
			return fmt.Errorf("mode %s: %w", mode, err)
		}
		runs = append(runs, r)
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return err
	}
	o.loadAfter = loadAverage()
	table := renderTable(o, runs)
	fmt.Print(table)
	if err := os.WriteFile(filepath.Join(o.out, "results.txt"), []byte(table), 0o644); err != nil {
		return err
	}
	svg := renderSVG(o, runs)
	return os.WriteFile(filepath.Join(o.out, "latest.svg"), []byte(svg), 0o644)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "rotate-under-load: "+format+"\n", args...)
}

// loadAverage is the 1, 5 and 15 minute load average: other processes on
// the machine show up in the latencies.
func loadAverage() string {
	data, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(data)); err == nil && len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return "unknown"
}

func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// seedOrders is how many orders exist before the load starts; reads pick one.
const seedOrders = 1000

// prepareDatabase does, as the admin, what an operator does once (see
// docs/providers/postgres.md): the group role owns the table and both login
// roles act as the group, so either can use what the other created.
func prepareDatabase(ctx context.Context, adminURL, password string) error {
	conn, err := pgx.Connect(ctx, adminURL)
	if err != nil {
		return fmt.Errorf("connect as admin: %w", err)
	}
	defer conn.Close(ctx)
	for _, stmt := range []string{
		`DROP TABLE IF EXISTS orders`,
		`CREATE TABLE orders (id bigserial PRIMARY KEY, sku text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
		`ALTER TABLE orders OWNER TO app`,
		fmt.Sprintf(`INSERT INTO orders (sku) SELECT 'seed-' || i FROM generate_series(1, %d) i`, seedOrders),
		`GRANT USAGE, CREATE ON SCHEMA public TO app`,
		`ALTER ROLE app_blue SET role = 'app'`,
		`ALTER ROLE app_green SET role = 'app'`,
		`ALTER ROLE app_blue LOGIN PASSWORD '` + password + `'`, // hex: no quoting needed
	} {
		if _, err := conn.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("%.40s…: %w", stmt, err)
		}
	}
	return nil
}

// appURL is adminURL with the user and password replaced.
func appURL(adminURL, user, password string) (string, error) {
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", fmt.Errorf("admin url: invalid")
	}
	u.User = url.UserPassword(user, password)
	return u.String(), nil
}
