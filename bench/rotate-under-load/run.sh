#!/usr/bin/env bash
# bench/rotate-under-load/run.sh — requests failed and latency while
# DATABASE_URL rotates under a constant load (see bench/README.md).
#
# Builds slickenv and the example orders service (examples/demoapp), starts
# a throwaway PostgreSQL on loopback (scripts/services), and runs the Go
# program next to this script: 200 req/s open loop, 80 % reads, for the whole
# of 5 consecutive rotations, first with `run --watch --listen` (handoff),
# then with `run --watch` alone (plain restart). Writes results.txt and
# latest.svg here (BENCH_OUT to write elsewhere). Extra arguments go to the
# program (-rate, -rotations, -window, -modes, -keep; -h lists them).
# SLICKENV_BIN=path uses that slickenv binary instead of building one.
# Bring your own server with SLICKENV_TEST_POSTGRES_URL (superuser; roles
# app, app_blue, app_green and table orders are created).
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${BENCH_OUT:-$HERE}
say() { printf 'bench: %s\n' "$*" >&2; }

BIN=$(mktemp -d "${TMPDIR:-/tmp}/slickenv-rul-bin.XXXXXX")
trap 'rm -rf "$BIN"' EXIT

say "building slickenv, demoapp and the load generator"
if [[ -n ${SLICKENV_BIN:-} ]]; then
	cp "$SLICKENV_BIN" "$BIN/slickenv" # a slickenv built elsewhere (a release, another checkout)
else
	(cd "$ROOT" && go build -o "$BIN/slickenv" ./cmd/slickenv)
fi
(cd "$ROOT" && go build -o "$BIN/demoapp" ./examples/demoapp/cmd/demoapp &&
	go build -o "$BIN/rotate-under-load" ./bench/rotate-under-load)

SLICKENV_SERVICES=${SLICKENV_SERVICES:-postgres}
export SLICKENV_SERVICES
# shellcheck source=../../scripts/services
source "$ROOT/scripts/services"
# services set their own EXIT trap (stop the servers); keep both.
trap 'svc_stop; rm -rf "$BIN"' EXIT

say "$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) before the run"
mkdir -p "$OUT"
"$BIN/rotate-under-load" -slickenv "$BIN/slickenv" -demoapp "$BIN/demoapp" \
	-admin-url "$SLICKENV_TEST_POSTGRES_URL" -out "$OUT" "$@"
say "load average $(cut -d' ' -f1-3 /proc/loadavg) after the run"
