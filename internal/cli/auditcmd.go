package cli

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/slickenv/slickenv/internal/audit"
	"github.com/slickenv/slickenv/internal/config"
	"github.com/slickenv/slickenv/internal/store"
)

func newAuditCommand(a *App) *cobra.Command {
	var since string
	var limit int
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "audit [--since D] [--json] | audit verify",
		Short: "Show the audit log, or verify its hash chain",
		Long: `audit lists the project's audit entries, oldest first: every write, every
read that revealed values, with actor, environment, names and version. Values
never appear in the log.

--since takes a duration (7d, 12h) or a date (2026-01-31, RFC 3339).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			q := store.AuditQuery{Limit: limit}
			if since != "" {
				t, err := parseSince(since, time.Now())
				if err != nil {
					return &usageError{msg: err.Error()}
				}
				q.Since = t
			}
			cfg, err := a.Config()
			if err != nil {
				return err
			}
			st, err := a.Store(cmd.Context())
			if err != nil {
				return err
			}
			entries, err := st.Audit(cmd.Context(), cfg.Project, q)
			if err != nil {
				return err
			}
			if asJSON {
				rows := make([]map[string]any, len(entries))
				for i, e := range entries {
					rows[i] = map[string]any{
						"seq": e.Seq, "at": e.At.Format(time.RFC3339Nano), "actor": e.Actor, "action": e.Action, "env": e.Env,
						"name": e.Name, "version": e.Version, "outcome": e.Outcome, "detail": e.Detail, "hash": audit.HashHex(e.Hash),
					}
				}
				return writeJSON(a.Stdout, rows)
			}
			tw := newTable(a.Stdout, "SEQ", "WHEN", "ACTOR", "ACTION", "ENV", "NAME", "VERSION", "OUTCOME")
			for _, e := range entries {
				v := "-"
				if e.Version > 0 {
					v = fmt.Sprintf("v%d", e.Version)
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, when(e.At), shortActor(e.Actor), e.Action, dash(e.Env), dash(summarize(e.Name)), v, e.Outcome)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVar(&since, "since", "", "only entries since a duration ago (7d) or a date")
	cmd.Flags().IntVar(&limit, "limit", 0, "only the newest N entries")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	cmd.AddCommand(newAuditVerifyCommand(a))
	return cmd
}

func newAuditVerifyCommand(a *App) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Recompute the audit hash chain; exit 7 naming the first bad entry",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.Config()
			if err != nil {
				return err
			}
			st, err := a.Store(cmd.Context())
			if err != nil {
				return err
			}
			entries, err := st.Audit(cmd.Context(), cfg.Project, store.AuditQuery{})
			if err != nil {
				return err
			}
			head, err := st.AuditHead(cmd.Context(), cfg.Project)
			if err != nil {
				return err
			}
			verr := audit.Verify(entries, head)
			var be *audit.BreakError
			if verr != nil && !errors.As(verr, &be) {
				return verr
			}
			if asJSON {
				out := map[string]any{"ok": verr == nil, "entries": len(entries)}
				if be != nil {
					out["first_bad_seq"] = be.Seq
					out["reason"] = be.Reason
				}
				if err := writeJSON(a.Stdout, out); err != nil {
					return err
				}
			} else if verr == nil {
				fmt.Fprintf(a.Stdout, "✓ audit log of %s verified: %d %s, chain intact\n", cfg.Project, len(entries), plural(len(entries), "entry", "entries"))
			}
			if verr != nil {
				return exitWith(ExitFindings, withHint(verr, "the audit log was modified outside slickenv; entries from that one on cannot be trusted"))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the result as JSON")
	return cmd
}

// parseSince accepts a duration ago (7d, 12h) or a date/time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := config.ParseDuration(s); err == nil {
		return now.Add(-d.Std()), nil
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("invalid --since %q: want a duration like 7d or 12h, or a date like 2026-01-31", s)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func summarize(names string) string {
	parts := strings.Split(names, ",")
	return summarizeNames(parts, 3)
}
