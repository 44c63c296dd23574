// Command abtime times whole commands interleaved — one run of each in
// turn, round after round — and prints each one's median, quartiles and
// minimum. On a machine shared with other work, interleaving exposes every
// command to the same disturbances, so it compares two builds (say, before
// and after a change to the store) more fairly than hyperfine's one command
// after the other. Commands are split on spaces; no shell is involved.
//
//	abtime [-n 30] [-warmup 3] 'CMD A…' 'CMD B…' …
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"time"
)

func main() {
	rounds := flag.Int("n", 30, "timed rounds")
	warmup := flag.Int("warmup", 3, "untimed rounds first")
	flag.Parse()
	cmds := flag.Args()
	if len(cmds) == 0 {
		fmt.Fprintln(os.Stderr, "usage: abtime [-n N] [-warmup N] 'CMD…' …")
		os.Exit(2)
	}
	times := make([][]time.Duration, len(cmds))
	for r := 0; r < *warmup+*rounds; r++ {
		for i, c := range cmds {
			f := strings.Fields(c)
			cmd := exec.Command(f[0], f[1:]...)
			start := time.Now()
			if err := cmd.Run(); err != nil {
				fmt.Fprintf(os.Stderr, "abtime: %s: %v\n", c, err)
				os.Exit(1)
			}
			if r >= *warmup {
				times[i] = append(times[i], time.Since(start))
			}
		}
	}
	for i, c := range cmds {
		t := times[i]
		slices.Sort(t)
		at := func(q float64) float64 { return float64(t[int(q*float64(len(t)-1))].Microseconds()) / 1000 }
		fmt.Printf("%-60s median %7.2f ms  p25 %7.2f  p75 %7.2f  min %7.2f\n", c, at(0.5), at(0.25), at(0.75), at(0))
	}
}
