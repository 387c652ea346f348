#!/usr/bin/env bash
# Measures fakellm alone: fakellm pinned to CPU 0, wrk pinned to CPU 1.
#   tests/fakes/fakellm/bench.sh [BUILD_DIR] [DURATION] [CONNECTIONS]
# Prints wrk's req/s and how busy fakellm's core was; on a shared machine,
# req/s divided by that share is what one whole core would do.
# FAKELLM_BODY / FAKELLM_STREAM are passed to post.lua.
set -euo pipefail
cd "$(dirname "$0")/../../.."
build=${1:-build-fake}
duration=${2:-5}
conns=${3:-16}
out=$(mktemp)
taskset -c 0 "$build/bin/fakellm" --listen 127.0.0.1:0 >"$out" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -f "$out"' EXIT
for _ in $(seq 50); do grep -q listening "$out" && break; sleep 0.1; done
port=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$out")
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
t0=$(ticks)
rps=$(taskset -c 1 wrk -t1 -c"$conns" -d"${duration}s" -s tests/fakes/fakellm/post.lua \
  "http://127.0.0.1:$port/v1/chat/completions" | awk '/Requests\/sec/{print $2}')
t1=$(ticks)
hz=$(getconf CLK_TCK)
awk -v r="$rps" -v t=$((t1 - t0)) -v hz="$hz" -v d="$duration" 'BEGIN {
  busy = t / hz / d
  printf "fakellm: %.0f req/s with its core %.0f%% busy (%.0f req per CPU-second)\n", r, 100 * busy, (busy > 0 ? r / busy : 0)
}'
