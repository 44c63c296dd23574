// Package bench holds slickenv's benchmarks: Go benchmarks of the embedded
// store on a large environment (store_test.go); the programs that build,
// inspect and compare (package fixture, cmd/mkfixture, cmd/phases,
// cmd/abtime); and run.sh, which times whole CLI processes with hyperfine
// next to sops and dotenvx. README.md says how to run them and holds the
// latest figures.
package bench
