// Command scanbench times `slickenv scan --history` on a repository with the
// built-in rules and, optionally, N synthetic known values, and writes a CPU
// profile. It is a measuring tool, not part of slickenv.
//
//	go run ./bench/scan/scanbench -repo /path/to/repo [-known 200] [-cpuprofile cpu.out]
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"flag"
	"fmt"
	"log"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/slickenv/slickenv/internal/scan"
	"github.com/slickenv/slickenv/internal/secret"
)

func main() {
	repo := flag.String("repo", ".", "repository to scan")
	known := flag.Int("known", 200, "synthetic known values to look for")
	cpu := flag.String("cpuprofile", "", "write a CPU profile here")
	workers := flag.Int("workers", 0, "scanner goroutines (0: GOMAXPROCS)")
	readers := flag.Int("readers", 0, "git cat-file processes (0: default)")
	show := flag.Bool("show", false, "list findings (redacted)")
	flag.Parse()
	if *cpu != "" {
		f, err := os.Create(*cpu)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	var values []scan.KnownValue
	for i := range *known {
		b := make([]byte, 24)
		rand.Read(b)
		values = append(values, scan.KnownValue{Value: secret.New(base64.RawURLEncoding.EncodeToString(b)),
			Owners: []scan.Owner{{Environment: "production", Variable: fmt.Sprintf("VAR_%d", i), Live: true}}})
	}
	s := &scan.Scanner{Detector: scan.NewDetector(scan.DefaultRules(), values), Workers: *workers}
	start := time.Now()
	res, err := s.Run(context.Background(), &scan.History{Dir: *repo, MaxSize: 10 << 20, Readers: *readers})
	if err != nil {
		log.Fatal(err)
	}
	perRule := map[string]int{}
	for _, f := range res.Findings {
		perRule[f.RuleID]++
		if *show {
			fmt.Printf("%s %s:%d %s %s\n", f.RuleID, f.Path, f.Line, f.Commit.ID[:min(10, len(f.Commit.ID))], scan.Redact(f.Secret))
		}
	}
	fmt.Println("findings per rule:", perRule)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("blobs %d  bytes %.1f MiB  findings %d  wall %s (attribution %s)  go-heap-sys %.1f MiB\n",
		res.Blobs, float64(res.Bytes)/(1<<20), len(res.Findings), time.Since(start).Round(time.Millisecond),
		res.AttributeDuration.Round(time.Millisecond), float64(ms.HeapSys)/(1<<20))
}
