package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"

	"github.com/slickenv/slickenv/internal/config"
	"github.com/slickenv/slickenv/internal/scan"
)

type scanOptions struct {
	history     bool
	staged      bool
	since       string
	format      string
	reportPath  string
	baseline    string
	redact      bool
	exitCode    int
	installHook bool
	force       bool
	maxSizeMB   int
}

func newScanCommand(a *App) *cobra.Command {
	o := scanOptions{redact: true, exitCode: ExitFindings, format: "text", maxSizeMB: 10}
	cmd := &cobra.Command{
		Use:   "scan [PATH] [--history | --staged] [--format text|json|sarif] [--baseline F]",
		Short: "Find secrets in files and git history",
		Long: `scan looks for secrets in the working tree under PATH (default "."; inside a
git repository only files git tracks or does not ignore), in the staged
changes (--staged, for a pre-commit hook), or in every blob of every ref of
the repository's history (--history; --since REV limits it to what REV
does not already contain).

Two detectors run. Known values: every value of every version of every
environment your identity can decrypt, so a finding names the variable and
environment and says whether it is still live ("rotate now: slickenv rotate
NAME -e ENV") or was rotated away. Without a project, identity or store this
detector is skipped with a note. Rules: AWS, Stripe, GitHub, Slack, SendGrid,
private keys, JWTs, database URLs with passwords and generic high-entropy
password/secret/token assignments.

A line containing "slickenv:allow" is never reported; --baseline F skips the
findings listed in F (a JSON report of an earlier scan); scan.ignore_paths in
.slickenv.yaml skips paths. Secrets are redacted (first 4 characters) unless
--redact=false. Exit status 7 when anything is found (--exit-code N to
change it), 0 otherwise. See docs/scan.md.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error { return runScan(cmd.Context(), a, o, args) },
	}
	f := cmd.Flags()
	f.BoolVar(&o.history, "history", false, "scan every blob of every ref of the git history")
	f.BoolVar(&o.staged, "staged", false, "scan the changes staged for the next commit")
	f.StringVar(&o.since, "since", "", "with --history: only commits not reachable from this revision")
	f.StringVar(&o.format, "format", o.format, "report format: text, json or sarif")
	f.StringVar(&o.reportPath, "report-path", "", "write the report to this file instead of stdout")
	f.StringVar(&o.baseline, "baseline", "", "skip findings listed in this file (a JSON report of an earlier scan)")
	f.BoolVar(&o.redact, "redact", o.redact, "show only the first 4 characters of each secret")
	f.IntVar(&o.exitCode, "exit-code", o.exitCode, "exit status when secrets are found")
	f.BoolVar(&o.installHook, "install-hook", false, "install a git pre-commit hook that runs \"slickenv scan --staged\", then exit")
	f.BoolVar(&o.force, "force", false, "with --install-hook: replace a pre-commit hook slickenv did not write")
	f.IntVar(&o.maxSizeMB, "max-size", o.maxSizeMB, "skip files and blobs larger than this many MiB")
	return cmd
}

func runScan(ctx context.Context, a *App, o scanOptions, args []string) error {
	root := a.Wd
	if len(args) == 1 {
		root = args[0]
		if !filepath.IsAbs(root) {
			root = filepath.Join(a.Wd, root)
		}
	}
	switch {
	case o.history && o.staged:
		return usageErrorf("use either --history or --staged, not both")
	case o.since != "" && !o.history:
		return usageErrorf("--since needs --history")
	case !slices.Contains(scan.Formats, o.format):
		return usageErrorf("unknown format %q: use text, json or sarif", o.format)
	case o.exitCode < 0 || o.exitCode > 125:
		return usageErrorf("--exit-code must be between 0 and 125")
	case o.maxSizeMB <= 0:
		return usageErrorf("--max-size must be positive")
	case o.force && !o.installHook:
		return usageErrorf("--force only applies to --install-hook")
	}
	if o.installHook {
		path, err := scan.InstallHook(ctx, root, o.force)
		if errors.Is(err, scan.ErrForeignHook) {
			return withHint(err, "add `slickenv scan --staged` to it yourself, or pass --force to replace it")
		}
		if errors.Is(err, scan.ErrNotGitRepository) {
			return withHint(err, "run it inside a git repository")
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(a.Stdout, "installed pre-commit hook %s (runs `slickenv scan --staged`)\n", path)
		return nil
	}

	var notes []string
	var ignore []string
	cfg, err := a.Config()
	switch {
	case err == nil:
		ignore = cfg.Scan.IgnorePaths
	case errors.Is(err, config.ErrNotFound) && a.configPath == "":
		cfg = nil
	default:
		return err
	}
	known, knownNotes, err := loadKnownValues(ctx, a, cfg)
	if err != nil {
		return err
	}
	notes = append(notes, knownNotes...)

	filter := scan.NewPathFilter(ignore)
	maxSize := int64(o.maxSizeMB) << 20
	var src scan.Source
	mode := "tree"
	switch {
	case o.history:
		mode = "history"
		src = &scan.History{Dir: root, Since: o.since, MaxSize: maxSize, Ignore: filter}
	case o.staged:
		mode = "staged"
		src = &scan.Staged{Dir: root, MaxSize: maxSize, Ignore: filter}
	default:
		if _, err := os.Stat(root); err != nil {
			return usageErrorf("scan %s: %v", root, errors.Unwrap(err))
		}
		src = &scan.Tree{Root: root, MaxSize: maxSize, Ignore: filter}
	}
	s := &scan.Scanner{Detector: scan.NewDetector(scan.DefaultRules(), known.Values), Ignore: filter}
	if o.baseline != "" {
		b, err := scan.LoadBaseline(o.baseline)
		if err != nil {
			return err
		}
		s.Baseline = b
	}
	if isTerminal(a.Stderr) {
		s.Progress = func(blobs, bytes int64) {
			fmt.Fprintf(a.Stderr, "\rscanning: %d blobs, %.1f MiB…", blobs, float64(bytes)/(1<<20))
		}
	}
	res, err := s.Run(ctx, src)
	if s.Progress != nil {
		fmt.Fprint(a.Stderr, "\r\033[K")
	}
	if errors.Is(err, scan.ErrNotGitRepository) {
		return withHint(err, "--history and --staged read git; scan the directory without them")
	}
	if err != nil {
		return err
	}
	version, _, _ := buildInfo()
	rep := &scan.Report{Mode: mode, Findings: res.Findings, Redact: o.redact, Now: time.Now(), Version: version,
		Blobs: res.Blobs, Bytes: res.Bytes, Duration: res.Duration, KnownValues: len(known.Values),
		SkippedValues: known.Skipped, Baselined: res.Baselined, Notes: notes}
	if err := writeScanReport(a, o, rep); err != nil {
		return err
	}
	if len(res.Findings) > 0 && o.exitCode != 0 {
		return exitWith(o.exitCode, nil)
	}
	return nil
}

// loadKnownValues decrypts every value the identity can read, or explains
// in a note why known-value detection is skipped.
func loadKnownValues(ctx context.Context, a *App, cfg *config.Config) (scan.KnownSet, []string, error) {
	const skipped = "known-value detection skipped: "
	if cfg == nil {
		return scan.KnownSet{}, []string{skipped + "no .slickenv.yaml here or above (provider rules still ran)"}, nil
	}
	id, err := a.Identity()
	if err != nil {
		return scan.KnownSet{}, []string{skipped + err.Error()}, nil
	}
	path, err := a.StorePath()
	if err != nil {
		return scan.KnownSet{}, []string{skipped + err.Error()}, nil
	}
	if _, err := os.Stat(path); err != nil && !isURL(path) {
		return scan.KnownSet{}, []string{skipped + "no store at " + path}, nil
	}
	st, err := a.Store(ctx)
	if err != nil {
		return scan.KnownSet{}, nil, err
	}
	ks, err := scan.LoadKnown(ctx, st, cfg.Project, id, a.Actor())
	if err != nil {
		return ks, nil, err
	}
	return ks, ks.Notes, nil
}

func writeScanReport(a *App, o scanOptions, rep *scan.Report) error {
	if o.reportPath == "" {
		return scan.Write(a.Stdout, o.format, rep)
	}
	f, err := os.OpenFile(o.reportPath, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	if err := scan.Write(f, o.format, rep); err != nil {
		f.Close()
		return fmt.Errorf("report %s: %w", o.reportPath, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("report %s: %w", o.reportPath, err)
	}
	return writeScanSummary(a.Stdout, rep, o.reportPath)
}

func writeScanSummary(w io.Writer, rep *scan.Report, path string) error {
	_, err := fmt.Fprintf(w, "%d %s; %s report written to %s\n", len(rep.Findings), plural(len(rep.Findings), "finding", "findings"), rep.Mode, path)
	return err
}
