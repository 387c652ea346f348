#!/usr/bin/env bash
# CTest driver for the end-to-end test: starts fakellm and llmgate on free
# loopback ports, runs the official OpenAI Node SDK against llmgate
# (sdk_test.mjs), and stops both by PID.
set -euo pipefail
BIN_DIR=${1:?usage: run_sdk_test.sh BIN_DIR}
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=sdk_fixture.sh
source "$HERE/sdk_fixture.sh"

port=$(free_port); aport=$(free_port)
cat >"$work/llmgate.yaml" <<YAML
server: {listen: "127.0.0.1:$port", admin_listen: "127.0.0.1:$aport", workers: 2}
providers:
  - {name: fake, kind: openai, base_url: "http://127.0.0.1:$fport/v1", api_key_env: E2E_PROVIDER_KEY,
     allow_private_network: true, timeouts: {connect: 1s, first_byte: 5s, total: 20s}}
models:
  - {name: gpt-4o-mini, provider: fake, context_window: 128000, price_per_mtok: {input: 0.15, output: 0.6}}
routes:
  - {name: auto, default: [gpt-4o-mini]}
YAML
E2E_PROVIDER_KEY=sk-e2e-provider "$BIN_DIR/llmgate" --config "$work/llmgate.yaml" >"$work/llmgate.out" 2>"$work/llmgate.err" &
pids+=($!)
for _ in $(seq 1 100); do curl -fsS "http://127.0.0.1:$aport/readyz" >/dev/null 2>&1 && break; sleep 0.05; done
curl -fsS "http://127.0.0.1:$aport/readyz" >/dev/null || { echo "e2e: llmgate not ready on admin port $aport" >&2; cat "$work/llmgate.err" >&2; exit 1; }

LLMGATE_BASE_URL="http://127.0.0.1:$port/v1" node "$HERE/sdk_test.mjs"
