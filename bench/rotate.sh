#!/usr/bin/env bash
# bench/rotate.sh — engine overhead of one rotation (see bench/README.md).
#
# A complete `slickenv rotate` of a `random` secret with a dotenv target and a
# zero-length verification window: every step of the state machine, every
# journal transaction with its audit entry, two environment versions, two
# atomic rewrites of the .env file. The window is the user's choice; this is
# everything else. Timed whole-process with hyperfine, next to `slickenv set`
# (one version write) and `slickenv version` (process start) in the same run.
#
# Knobs: BENCH_RUNS [30], BENCH_WARMUP [3], BENCH_KEEP [0], BENCH_OUT [-].
set -euo pipefail

RUNS=${BENCH_RUNS:-30}
WARMUP=${BENCH_WARMUP:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
say() { printf 'bench: %s\n' "$*" >&2; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/slickenv-rotate-bench.XXXXXX")
cleanup() { if [[ ${BENCH_KEEP:-0} == 1 ]]; then say "kept $WORK"; else rm -rf "$WORK"; fi; }
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! command -v hyperfine >/dev/null; then
	if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
		say "installing hyperfine"
		apt-get install -y -qq hyperfine >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq hyperfine >/dev/null; }
	else
		say "hyperfine is required"; exit 1
	fi
fi

say "building slickenv"
(cd "$ROOT" && go build -o "$WORK/slickenv" ./cmd/slickenv)
S=$WORK/slickenv
export HOME=$WORK/home XDG_CONFIG_HOME=$WORK/home/.config XDG_DATA_HOME=$WORK/home/.local/share
unset SLICKENV_STORE SLICKENV_IDENTITY SLICKENV_IDENTITY_FILE SLICKENV_ENV
mkdir -p "$WORK/project" && cd "$WORK/project"
"$S" init --project bench >/dev/null
cat > .slickenv.yaml <<'YAML'
project: bench
default_env: production
secrets:
  WEBHOOK_SECRET:
    provider: random
    with: { length: 32, encoding: hex, prefix: "whsec_" }
    targets:
      - dotenv: ./app.env
    verify:
      window: 0s
YAML
printf 'APP_NAME=bench\nWEBHOOK_SECRET=x\n' > app.env
chmod 600 app.env
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' | "$S" set WEBHOOK_SECRET - >/dev/null
# A realistic environment around the secret: 50 other variables.
for i in $(seq 1 50); do echo "VAR_$i=value-$i-$RANDOM$RANDOM"; done > vars.env
"$S" import vars.env >/dev/null

say "timing ($RUNS runs each)"
hyperfine --style basic --runs "$RUNS" --warmup "$WARMUP" --export-json "$WORK/rotate.json" \
	-n "slickenv version" "$S version" \
	-n "slickenv set (one version)" "$S set COUNTER=\$RANDOM$RANDOM -m bench" \
	-n "slickenv rotate (random, dotenv target, window 0s)" "$S rotate WEBHOOK_SECRET --yes --window 0s" >&2 || true

summary=$(python3 - "$WORK/rotate.json" <<'PY'
import json, sys, statistics
res = json.load(open(sys.argv[1]))["results"]
base = next(r for r in res if r["command"].startswith("slickenv version"))
print(f"{'command':<56} {'median':>9} {'min':>9} {'max':>9}")
for r in res:
    t = r["times"]
    print(f"{r['command']:<56} {statistics.median(t)*1000:8.1f}ms {min(t)*1000:8.1f}ms {max(t)*1000:8.1f}ms")
PY
)
echo "$summary"
rot=$("$S" history --limit 0 --json | python3 -c 'import json,sys; print(sum(1 for v in json.load(sys.stdin)["versions"] if v["kind"]=="rotate"))')
echo "rotations completed: $((rot / 2)) (each writes 2 versions); audit chain: $("$S" audit verify)"
if [[ ${BENCH_OUT:--} != - ]]; then echo "$summary" > "$BENCH_OUT"; fi
