#!/usr/bin/env bash
# bench/peers.sh [BUILD_DIR] - run the shared peers yardstick (../shared/peers/peers.sh:
# direct, nginx, HAProxy, Portkey against one fixed-body mock) with llmgate added,
# started and stopped by peers.sh itself, pinned like the peers, one worker.
# Environment is passed through to peers.sh (ROUNDS, CONNS, DURATION, RATE, ...);
# PORT_BASE (default 18080) is the mock port, llmgate listens on LLMGATE_PORT
# (default PORT_BASE+10) and its admin on LLMGATE_PORT+1; llmgate-nolog (access
# log off) on LLMGATE_PORT+2 and +3.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
BUILD_DIR="${1:-${BUILD_DIR:-build}}"
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
LLMGATE="$BUILD_DIR/bin/llmgate"
PEERS_SH="${PEERS_SH:-$ROOT/../shared/peers/peers.sh}"
[ -x "$LLMGATE" ] || { echo "bench: $LLMGATE not found: build first" >&2; exit 1; }
[ -x "$PEERS_SH" ] || { echo "bench: $PEERS_SH not found (the shared peers harness)" >&2; exit 1; }

export OUT_DIR="${OUT_DIR:-$HERE/results/peers-$(date +%Y%m%d-%H%M%S)}"
export PORT_BASE="${PORT_BASE:-18080}"
LLMGATE_PORT="${LLMGATE_PORT:-$((PORT_BASE + 10))}"
TMP="$(mktemp -d "${TMPDIR:-/tmp}/llmgate-peers.XXXXXX")"
trap 'rm -rf "$TMP"' EXIT
# llmgate with its defaults (access log on, to stdout) and llmgate-nolog with
# logging.access_log: "off" (the built-in peers log nothing either).
for v in llmgate:0 llmgate-nolog:2; do
  name=${v%%:*}; port=$((LLMGATE_PORT + ${v##*:}))
  extra=""; [ "$name" = llmgate-nolog ] && extra=', access_log: "off"'
  cat >"$TMP/$name.yaml" <<YAML
server: {listen: "127.0.0.1:$port", admin_listen: "127.0.0.1:$((port + 1))", workers: 1, drain_timeout: 2s}
logging: {level: warn$extra}
providers:
  - {name: mock, kind: openai, base_url: "http://127.0.0.1:$PORT_BASE/v1", allow_private_network: true, max_connections: 256}
models:
  - {name: gpt-4o-mini, provider: mock, context_window: 128000, price_per_mtok: {input: 0.15, output: 0.6}}
YAML
  echo "$name config ($TMP/$name.yaml):"; sed 's/^/  /' "$TMP/$name.yaml"
done
# not exec: the trap removes the temporary configs afterwards
"$PEERS_SH" \
  --start "exec '$LLMGATE' --config '$TMP/llmgate.yaml'" \
  --start "exec '$LLMGATE' --config '$TMP/llmgate-nolog.yaml'" \
  "llmgate=http://127.0.0.1:$LLMGATE_PORT/v1/chat/completions" \
  "llmgate-nolog=http://127.0.0.1:$((LLMGATE_PORT + 2))/v1/chat/completions"
