#!/usr/bin/env bash
# CTest driver for sdk_drain_test.mjs: fakellm and llmgate (drain_timeout 1s)
# on free loopback ports; the Node script SIGTERMs llmgate mid-stream; then
# llmgate must have exited 0. Stops what it started by PID.
set -euo pipefail
BIN_DIR=${1:?usage: run_sdk_drain_test.sh BIN_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=sdk_fixture.sh
source "$HERE/sdk_fixture.sh"

port=$(free_port); aport=$(free_port)
cat >"$work/llmgate.yaml" <<YAML
server: {listen: "127.0.0.1:$port", admin_listen: "127.0.0.1:$aport", workers: 2, drain_timeout: 1s}
providers:
  - {name: fake, kind: openai, base_url: "http://127.0.0.1:$fport/v1", api_key_env: E2E_PROVIDER_KEY,
     allow_private_network: true, timeouts: {connect: 1s, first_byte: 5s, total: 20s}}
models:
  - {name: gpt-4o-mini, provider: fake, context_window: 128000, price_per_mtok: {input: 0.15, output: 0.6}}
routes:
  - {name: auto, default: [gpt-4o-mini]}
YAML
E2E_PROVIDER_KEY=sk-e2e-provider "$BIN_DIR/llmgate" --config "$work/llmgate.yaml" >"$work/llmgate.out" 2>"$work/llmgate.err" &
gate=$!
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$aport/readyz" >/dev/null 2>&1 && break; sleep 0.05; done
curl -fsS "http://127.0.0.1:$aport/readyz" >/dev/null || { echo "e2e: llmgate not ready on admin port $aport" >&2; cat "$work/llmgate.err" >&2; kill "$gate"; exit 1; }

status=0
LLMGATE_BASE_URL="http://127.0.0.1:$port/v1" LLMGATE_PID=$gate LLMGATE_DRAIN_MS=1000 \
  node "$HERE/sdk_drain_test.mjs" || status=$?
# llmgate was SIGTERMed by the script: it must exit 0 on its own, promptly.
code=0
for _ in $(seq 1 100); do kill -0 "$gate" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$gate" 2>/dev/null; then
  echo "e2e: llmgate still running 5 s after the drain test" >&2; kill -KILL "$gate"; status=1
else
  wait "$gate" || code=$?
  [ "$code" -eq 0 ] || { echo "e2e: llmgate exited $code after SIGTERM, expected 0" >&2; status=1; }
fi
[ "$status" -eq 0 ] || tail -20 "$work/llmgate.err" >&2
exit "$status"
