#!/usr/bin/env bash
# bench/run.sh — whole-process benchmarks of the slickenv CLI (see bench/README.md).
#
# It builds slickenv from this checkout, prepares every fixture in a temporary
# directory (removed on exit, also on failure or ^C), times whole processes
# with hyperfine and prints a summary table:
#
#   1. `slickenv run -- true` on an environment of 200 variables, side by side
#      in the same hyperfine run with `sops exec-env` on the same 200
#      variables, with the same binary built with CGO_ENABLED=0, and with
#      `slickenv version` (the floor every slickenv command pays to start);
#      then `dotenvx run` on the same variables (encrypted with `dotenvx
#      encrypt`, so it does real work), with fewer runs since it takes seconds.
#   2. `get`, `export` and `history --limit 50` on an environment of 1,000
#      variables with 10,000 versions (3 variables changed per version),
#      written with bench/cmd/mkfixture; and the store's bytes per version.
#   3. Where the time of one `run` goes, phase by phase (bench/cmd/phases).
#
# Environment knobs (defaults in brackets):
#   BENCH_RUNS [30]        timed runs per command     BENCH_WARMUP [5]
#   BENCH_SLOW_RUNS [5]    timed runs of dotenvx (seconds per run with 200
#                          encrypted variables)
#   BENCH_VARS [200]       variables for group 1      BENCH_LARGE_VARS [1000]
#   BENCH_VERSIONS [10000] versions for group 2       BENCH_CHANGES [3]
#   BENCH_TOOLS [~/.cache/slickenv-bench]  where sops, age-keygen and dotenvx
#                          are installed once and reused (pinned versions)
#   BENCH_KEEP [0]         1: keep the temporary directory and print its path
#   BENCH_OUT [-]          also write the summary to this file
#
# Needs: go, and for the comparisons npm (dotenvx) and the Go module proxy
# (sops, age). hyperfine is installed with apt-get when missing (as root).
set -euo pipefail

SOPS_VERSION=v3.13.2
AGE_VERSION=v1.3.2
DOTENVX_VERSION=2.38.2

RUNS=${BENCH_RUNS:-30}
WARMUP=${BENCH_WARMUP:-5}
SLOW_RUNS=${BENCH_SLOW_RUNS:-5}
VARS=${BENCH_VARS:-200}
LARGE_VARS=${BENCH_LARGE_VARS:-1000}
VERSIONS=${BENCH_VERSIONS:-10000}
CHANGES=${BENCH_CHANGES:-3}
TOOLS=${BENCH_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/slickenv-bench}
ROOT=$(cd "$(dirname "$0")/.." && pwd)

say() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: error: %s\n' "$*" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/slickenv-bench.XXXXXX")
cleanup() {
	if [[ ${BENCH_KEEP:-0} == 1 ]]; then
		say "kept $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools -------------------------------------------------------------------

if ! command -v hyperfine >/dev/null; then
	if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
		say "installing hyperfine (apt-get)"
		apt-get install -y -qq hyperfine >/dev/null 2>&1 ||
			{ apt-get update -qq >/dev/null && apt-get install -y -qq hyperfine >/dev/null; } ||
			die "could not install hyperfine"
	else
		die "hyperfine is missing: install it (apt-get install hyperfine, or cargo install hyperfine)"
	fi
fi

mkdir -p "$TOOLS/bin"
go_tool() { # go_tool BIN MODULE@VERSION VERSION — install once into $TOOLS/bin
	local bin=$1 pkg=$2 version=$3
	if [[ ! -x $TOOLS/bin/$bin || ! -f $TOOLS/bin/$bin.$version ]]; then
		say "installing $pkg"
		GOBIN="$TOOLS/bin" go install "$pkg" || return 1
		touch "$TOOLS/bin/$bin.$version"
	fi
}
HAVE_SOPS=1
go_tool sops "github.com/getsops/sops/v3/cmd/sops@$SOPS_VERSION" "$SOPS_VERSION" &&
	go_tool age-keygen "filippo.io/age/cmd/age-keygen@$AGE_VERSION" "$AGE_VERSION" ||
	{ say "sops or age-keygen could not be installed: skipping sops"; HAVE_SOPS=0; }
HAVE_DOTENVX=1
DOTENVX=$TOOLS/dotenvx/node_modules/.bin/dotenvx
if [[ ! -x $DOTENVX || ! -f $TOOLS/dotenvx/.v$DOTENVX_VERSION ]]; then
	if command -v npm >/dev/null && say "installing @dotenvx/dotenvx@$DOTENVX_VERSION" &&
		npm install --silent --no-audit --no-fund --prefix "$TOOLS/dotenvx" "@dotenvx/dotenvx@$DOTENVX_VERSION" >/dev/null; then
		touch "$TOOLS/dotenvx/.v$DOTENVX_VERSION"
	else
		say "dotenvx could not be installed: skipping dotenvx"
		HAVE_DOTENVX=0
	fi
fi

# --- build -------------------------------------------------------------------

say "building slickenv, mkfixture and phases"
mkdir -p "$WORK/bin"
(cd "$ROOT" && go build -o "$WORK/bin/slickenv" ./cmd/slickenv &&
	CGO_ENABLED=0 go build -o "$WORK/bin/slickenv-nocgo" ./cmd/slickenv &&
	go build -o "$WORK/bin/mkfixture" ./bench/cmd/mkfixture &&
	go build -o "$WORK/bin/phases" ./bench/cmd/phases)
SLICKENV=$WORK/bin/slickenv

# A private HOME: nothing of the user's identity, config or stores is touched.
export HOME=$WORK/home
unset XDG_CONFIG_HOME XDG_DATA_HOME SLICKENV_STORE SLICKENV_IDENTITY SLICKENV_IDENTITY_FILE SLICKENV_ENV SLICKENV_ACTOR
mkdir -p "$HOME"
STORES=$HOME/.local/share/slickenv/projects

# --- fixtures ----------------------------------------------------------------

say "fixture 1: $VARS variables, imported with slickenv import"
mkdir -p "$WORK/run"
cd "$WORK/run"
# Deterministic names and values that look like real secrets (40 characters).
awk -v n="$VARS" 'BEGIN { srand(42); for (i = 1; i <= n; i++) {
	v = ""; for (j = 0; j < 40; j++) v = v substr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", int(rand() * 62) + 1, 1)
	printf "APP_VAR_%03d=%s\n", i, v } }' >vars.env
"$SLICKENV" init --project benchrun >/dev/null
"$SLICKENV" import vars.env >/dev/null
[[ $("$SLICKENV" export | grep -c '^APP_VAR_') == "$VARS" ]] || die "slickenv export does not give back $VARS variables"

if [[ $HAVE_SOPS == 1 ]]; then
	"$TOOLS/bin/age-keygen" -o "$WORK/run/age.key" 2>/dev/null
	export SOPS_AGE_KEY_FILE=$WORK/run/age.key
	recipient=$(grep -o 'age1[0-9a-z]*' "$SOPS_AGE_KEY_FILE" | head -1)
	"$TOOLS/bin/sops" encrypt --age "$recipient" --input-type dotenv --output-type dotenv vars.env >sops.env
	[[ $("$TOOLS/bin/sops" exec-env sops.env 'env' | grep -c '^APP_VAR_') == "$VARS" ]] || die "sops exec-env does not give back $VARS variables"
fi
if [[ $HAVE_DOTENVX == 1 ]]; then
	cp vars.env dotenvx.env
	"$DOTENVX" encrypt -q -f dotenvx.env >/dev/null
	grep -Eq '^APP_VAR_001="?encrypted:' dotenvx.env || die "dotenvx encrypt did not encrypt"
	[[ $("$DOTENVX" run -q -f dotenvx.env -- env | grep -c '^APP_VAR_') == "$VARS" ]] || die "dotenvx run does not give back $VARS variables"
fi

say "fixture 2: $LARGE_VARS variables, $VERSIONS versions, $CHANGES changes each (mkfixture)"
mkdir -p "$WORK/large"
cd "$WORK/large"
"$SLICKENV" init --project benchlarge >/dev/null
"$WORK/bin/mkfixture" -q -store "$STORES/benchlarge.db" -project benchlarge \
	-vars "$LARGE_VARS" -versions "$VERSIONS" -changes "$CHANGES" >"$WORK/size.txt"
"$SLICKENV" history --limit 1 | grep -q "^v$VERSIONS " || die "the large environment does not have $VERSIONS versions"

# --- measurements --------------------------------------------------------------

LOAD_BEFORE=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$LOAD_BEFORE" -v n="$(nproc)" 'BEGIN { exit !(l > n / 2) }'; then
	say "warning: load average $LOAD_BEFORE on $(nproc) cores: other work is running and will inflate the figures"
fi

hf() { # hf CSV HYPERFINE-ARGS… — one hyperfine run, its results in CSV
	local csv=$1
	shift
	hyperfine -N --style basic --warmup "$WARMUP" --runs "$RUNS" --export-csv "$csv" "$@" >&2
}

say "group 1: run with $VARS variables"
cd "$WORK/run"
args=(-n "slickenv run -- true" "$SLICKENV run -- true"
	-n "slickenv run -- true (CGO_ENABLED=0)" "$WORK/bin/slickenv-nocgo run -- true"
	-n "slickenv version (startup floor)" "$SLICKENV version")
if [[ $HAVE_SOPS == 1 ]]; then
	args+=(-n "sops exec-env" "$TOOLS/bin/sops exec-env sops.env true")
fi
hf "$WORK/run.csv" "${args[@]}"
if [[ $HAVE_DOTENVX == 1 ]]; then
	say "group 1: dotenvx ($SLOW_RUNS runs)"
	hyperfine -N --style basic --warmup 1 --runs "$SLOW_RUNS" --export-csv "$WORK/dotenvx.csv" \
		-n "dotenvx run" "$DOTENVX run -q -f dotenvx.env -- true" \
		-n "dotenvx run (plaintext .env)" "$DOTENVX run -q -f vars.env -- true" >&2
	tail -n +2 "$WORK/dotenvx.csv" >>"$WORK/run.csv"
fi

say "group 2: $LARGE_VARS variables × $VERSIONS versions"
cd "$WORK/large"
hf "$WORK/large.csv" \
	-n "slickenv get" "$SLICKENV get VAR_0500" \
	-n "slickenv export" "$SLICKENV export" \
	-n "slickenv history --limit 50" "$SLICKENV history --limit 50" \
	-n "slickenv history KEY --limit 50" "$SLICKENV history VAR_0500 --limit 50" \
	-n "slickenv version (startup floor)" "$SLICKENV version"

say "phases of one run (median of $RUNS processes, µs)"
phases() { # phases STORE PROJECT — median per column over $RUNS processes
	local store=$1 project=$2
	"$WORK/bin/phases" -header -store "$store" -project "$project" | head -1
	for _ in $(seq "$RUNS"); do "$WORK/bin/phases" -store "$store" -project "$project"; done |
		awk '{ for (i = 1; i <= NF; i++) col[i] = col[i] " " $i; n = NF }
		END { for (i = 1; i <= n; i++) { m = split(substr(col[i], 2), a, " "); asort_(a, m)
			printf "%s%s", (m % 2 ? a[(m + 1) / 2] : int((a[m / 2] + a[m / 2 + 1]) / 2)), (i < n ? "\t" : "\n") } }
		function asort_(a, m,   i, j, t) { for (i = 2; i <= m; i++) { t = a[i]; for (j = i - 1; j > 0 && a[j] + 0 > t + 0; j--) a[j + 1] = a[j]; a[j + 1] = t } }'
}
PH_RUN=$(phases "$STORES/benchrun.db" benchrun)
PH_LARGE=$(phases "$STORES/benchlarge.db" benchlarge)

# --- summary -------------------------------------------------------------------

summary() {
	echo "## slickenv benchmarks ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load average $LOAD_BEFORE before → $(cut -d' ' -f1 /proc/loadavg) after)"
	echo
	echo "### run -- true, $VARS variables ($RUNS runs, $WARMUP warmup; dotenvx $SLOW_RUNS runs; ratio = median / median of slickenv run -- true)"
	echo
	table "$WORK/run.csv" "slickenv run -- true" 10
	echo
	echo "### $LARGE_VARS variables × $VERSIONS versions ($CHANGES changed per version; $RUNS runs; target < 50 ms; ratio = median / median of slickenv get)"
	echo
	table "$WORK/large.csv" "slickenv get" 50
	echo
	echo "### store size ($LARGE_VARS variables × $VERSIONS versions)"
	echo
	sed 's/^/    /' "$WORK/size.txt"
	echo
	echo "### phases inside one process (median µs over $RUNS processes; process start and the child not included)"
	echo
	{
		echo "store $(echo "$PH_RUN" | head -1)"
		echo "$VARS×1 $(echo "$PH_RUN" | tail -1)"
		echo "${LARGE_VARS}×$VERSIONS $(echo "$PH_LARGE" | tail -1)"
	} | awk '{ printf "    %-11s", $1; for (i = 2; i <= NF; i++) printf " %9s", $i; printf "\n" }'
}

table() { # table CSV BASELINE_NAME TARGET_MS
	awk -F, -v base="$2" -v target="$3" '
	NR == 1 { next }
	{ name[NR] = $1; mean[NR] = $2 * 1000; sd[NR] = $3 * 1000; med[NR] = $4 * 1000; cpu[NR] = ($5 + $6) * 1000; min[NR] = $7 * 1000; max[NR] = $8 * 1000
	  if ($1 == base) b = $4 * 1000; n = NR }
	END {
		printf "    %-38s %10s %17s %10s %10s %10s %9s\n", "command", "median", "mean ± σ", "min", "max", "user+sys", "ratio"
		for (i = 2; i <= n; i++) {
			verdict = ""
			if (name[i] ~ /^slickenv/ && name[i] !~ /version/) verdict = (med[i] < target ? "  ✓ < " : "  ✗ ≥ ") target " ms"
			printf "    %-38s %7.1f ms %8.1f ± %5.1f %7.1f ms %7.1f ms %7.1f ms %8.2f×%s\n", name[i], med[i], mean[i], sd[i], min[i], max[i], cpu[i], med[i] / b, verdict
		}
	}' "$1"
}

if [[ ${BENCH_OUT:--} != - ]]; then
	summary | tee "$BENCH_OUT"
else
	summary
fi
