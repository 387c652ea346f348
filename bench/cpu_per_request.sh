#!/usr/bin/env bash
# bench/cpu_per_request.sh [BUILD_DIR] - llmgate's own CPU cost per request,
# far less sensitive to other load on the machine than req/s or latency:
# user/system CPU microseconds per request (/proc/PID/stat before/after;
# this VM has no hardware counters, so perf stat cannot count instructions).
# PERF=1 records a cpu-clock profile instead (perf record -g), kept in OUT.
#
#   MODE=pass  llmgate (1 worker, access log off) -> fakellm, bench/request.json
#   MODE=hit   llmgate with the cache on, every request an L1 hit
#              (../shared/peers/wrk/request-t0.json, warmed once)
#   MODE=both  (default) one after the other
#
# Environment: LLMGATE [BUILD_DIR/bin/llmgate] binary to measure (A/B runs), DURATION [5] seconds of wrk -t1 -c$CONNS, CONNS [16],
#   LOG [off] access log ("off" or "stdout"), STRACE [0]: 1 = also count
#   syscalls per request with strace -c -f (slow; figures per request only).
# fakellm and llmgate are pinned to CPU 0, wrk to the last CPU. Everything
# listens on 127.0.0.1 and is stopped by PID on exit.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
BUILD_DIR="${1:-build}"
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
MODE="${MODE:-both}"
DURATION="${DURATION:-5}"
CONNS="${CONNS:-16}"
LOG="${LOG:-off}"
STRACE="${STRACE:-0}"
LAST=$(($(nproc) - 1))
WORK="$(mktemp -d /tmp/llmgate-cpu.XXXXXX)"
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
ticks() { awk '{ print $14 + 0, $15 + 0 }' "/proc/$1/stat"; }

FPORT=$(port)
taskset -c 0 "$BUILD_DIR/bin/fakellm" --listen "127.0.0.1:$FPORT" --threads 1 >"$WORK/fake.log" 2>&1 &
PIDS+=($!)

run_one() {                     # NAME CACHE_YAML BODY
  local name=$1 cache=$2 body=$3 gport aport gpid i
  gport=$(port); aport=$(port)
  cat >"$WORK/$name.yaml" <<EOF
server: {listen: "127.0.0.1:$gport", admin_listen: "127.0.0.1:$aport", workers: 1}
logging: {level: warn, access_log: "$LOG"}
cache: $cache
providers:
  - {name: fake, kind: openai, base_url: "http://127.0.0.1:$FPORT/v1", allow_private_network: true, max_connections: 256}
models:
  - {name: gpt-4o-mini, provider: fake, context_window: 128000, price_per_mtok: {input: 0.15, output: 0.6}}
EOF
  taskset -c 0 "${LLMGATE:-$BUILD_DIR/bin/llmgate}" --config "$WORK/$name.yaml" >"$WORK/$name.out" 2>&1 &
  gpid=$!
  PIDS+=("$gpid")
  for ((i = 0; i < 100; i++)); do
    curl -sf -o /dev/null "http://127.0.0.1:$aport/readyz" && break
    sleep 0.1
  done
  local url="http://127.0.0.1:$gport/v1/chat/completions"
  local hdr
  hdr=$(curl -s -D - -o /dev/null -X POST "$url" -H 'Content-Type: application/json' \
        -H 'Authorization: Bearer sk-x' --data-binary @"$body")
  hdr=$(curl -s -D - -o /dev/null -X POST "$url" -H 'Content-Type: application/json' \
        -H 'Authorization: Bearer sk-x' --data-binary @"$body")
  grep -q '^HTTP/1.1 200' <<<"$hdr" || { echo "$name: not 200: $hdr" >&2; return 1; }
  echo "$name: $(grep -i '^x-llmgate-cache' <<<"$hdr" | tr -d '\r')"
  # warm-up
  BENCH_BODY="$body" taskset -c "$LAST" wrk -t1 -c"$CONNS" -d1s -s "$HERE/chat.lua" "$url" >/dev/null 2>&1
  local t0 t1 out reqs
  t0=$(ticks "$gpid")
  if [ "$STRACE" = 1 ]; then
    strace -c -f -p "$gpid" -o "${OUT:-/tmp}/strace-$name.txt" &
    local spid=$!
    sleep 0.5
  else
    local spid=""
    if [ "${PERF:-0}" = 1 ]; then
      perf record -e cpu-clock -g -o "${OUT:-/tmp}/perf-$name.data" -p "$gpid" >/dev/null 2>&1 &
      spid=$!
    fi
  fi
  out=$(BENCH_BODY="$body" taskset -c "$LAST" wrk -t1 -c"$CONNS" -d"${DURATION}s" -s "$HERE/chat.lua" "$url" 2>&1)
  if [ -n "$spid" ]; then kill -INT "$spid" 2>/dev/null || true; wait "$spid" 2>/dev/null || true; fi
  t1=$(ticks "$gpid")
  reqs=$(sed -n 's/.*BENCH_RESULT requests=\([0-9]*\).*/\1/p' <<<"$out")
  local errs
  errs=$(sed -n 's/.*err_connect=\([0-9]*\) err_read=\([0-9]*\) err_write=\([0-9]*\) err_status=\([0-9]*\) err_timeout=\([0-9]*\).*/\1+\2+\3+\4+\5/p' <<<"$out")
  local hz
  hz=$(getconf CLK_TCK)
  read -r u0 s0 <<<"$t0"; read -r u1 s1 <<<"$t1"
  if [ "$STRACE" = 1 ]; then
    echo "$name: requests=$reqs (under strace) errors=$((errs)) syscalls per request:"
    awk -v n="$reqs" 'NR > 2 && $NF != "total" && $4 ~ /^[0-9]+$/ { printf "  %-16s %.2f\n", $NF, $4 / n }
                      NR > 2 && $5 ~ /^[0-9]+$/ && $NF != "total" { printf "  %-16s %.2f\n", $NF, $4 / n }' "${OUT:-/tmp}/strace-$name.txt" | sort -u -k2 -nr | head -12
  else
    awk -v name="$name" -v n="$reqs" -v e="$((errs))" -v hz="$hz" \
        -v u="$((u1 - u0))" -v s="$((s1 - s0))" -v rps="$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<<"$out")" 'BEGIN {
      printf "%s: requests=%d errors=%d rps=%s cpu_us/req=%.1f (user %.1f sys %.1f)\n",
        name, n, e, rps, (u + s) * 1e6 / hz / n, u * 1e6 / hz / n, s * 1e6 / hz / n }'
  fi
  kill "$gpid"; wait "$gpid" 2>/dev/null || true
}

case "$MODE" in
  pass | both) run_one pass "{mode: \"off\"}" "$HERE/request.json" ;;
esac
case "$MODE" in
  hit | both) run_one hit "{mode: deterministic}" "$ROOT/../shared/peers/wrk/request-t0.json" ;;
esac
