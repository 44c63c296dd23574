package scan

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// WriteText renders findings for people, grouped by secret: what leaked
// (variable and environment, live or retired, the rotate command), then
// every place it was found, with the commit that introduced it.
func WriteText(w io.Writer, r *Report) error {
	bw := bufio.NewWriter(w)
	var groups [][]*Finding
	index := map[string]int{}
	for i := range r.Findings {
		f := &r.Findings[i]
		key := f.Subject() + "\x00" + secretHash(f.Secret)
		j, ok := index[key]
		if !ok {
			j = len(groups)
			index[key] = j
			groups = append(groups, nil)
		}
		groups[j] = append(groups[j], f)
	}
	live, retired, rules := 0, 0, 0
	for _, g := range groups {
		f := g[0]
		switch {
		case f.Live():
			live++
			o := f.Owners[0]
			fmt.Fprintf(bw, "✗ %s (%s) is LIVE: rotate now: %s\n", o.Variable, o.Environment, RotateCommand(o))
		case f.Known():
			retired++
			o := f.Owners[0]
			fmt.Fprintf(bw, "! %s (%s), retired: rotated away on %s\n", o.Variable, o.Environment, day(o.RetiredAt))
		default:
			rules++
			fmt.Fprintf(bw, "✗ %s [%s]\n", f.Description, f.RuleID)
		}
		fmt.Fprintf(bw, "  secret: %s\n", r.secretText(f))
		if f.Known() && len(f.Owners) > 1 {
			var also []string
			for _, o := range f.Owners[1:] {
				s := o.Environment + "/" + o.Variable + " (" + o.Status()
				if !o.Live {
					s += " " + day(o.RetiredAt)
				}
				also = append(also, s+")")
			}
			fmt.Fprintf(bw, "  also held by: %s\n", strings.Join(also, ", "))
		}
		for _, f := range g {
			fmt.Fprintf(bw, "  %s:%d:%d", f.Path, f.Line, f.Column)
			if f.Commit.ID != "" {
				c := f.Commit
				fmt.Fprintf(bw, "  commit %s by %s <%s>, %s (%s)", short(c.ID), c.Author, c.Email, c.Date.UTC().Format("2006-01-02"), Ago(r.Now, c.Date))
			}
			if f.Occurrences > 1 {
				fmt.Fprintf(bw, "  [%d versions of the file]", f.Occurrences)
			}
			fmt.Fprintln(bw)
		}
		fmt.Fprintln(bw)
	}
	if len(groups) == 0 {
		fmt.Fprintln(bw, "no secrets found")
	} else {
		fmt.Fprintf(bw, "%d %s in %d %s: %d live, %d retired, %d by rule\n",
			len(groups), plural(len(groups), "secret", "secrets"), len(r.Findings), plural(len(r.Findings), "place", "places"), live, retired, rules)
	}
	fmt.Fprintf(bw, "scanned %d %s (%s) in %s", r.Blobs, plural(int(r.Blobs), "blob", "blobs"), sizeText(r.Bytes), r.Duration.Round(1e6))
	if r.KnownValues > 0 || r.SkippedValues > 0 {
		fmt.Fprintf(bw, "; %d known %s looked for, %d skipped (shorter than %d characters or low entropy)",
			r.KnownValues, plural(r.KnownValues, "value", "values"), r.SkippedValues, MinKnownLength)
	}
	if r.Baselined > 0 {
		fmt.Fprintf(bw, "; %d in the baseline", r.Baselined)
	}
	fmt.Fprintln(bw)
	for _, n := range r.Notes {
		fmt.Fprintf(bw, "note: %s\n", n)
	}
	return bw.Flush()
}

func short(id string) string {
	if len(id) > 10 {
		return id[:10]
	}
	return id
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
