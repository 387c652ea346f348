#!/bin/sh
# Control-plane scale benchmark (issue 7): starts llmgate-control on a free
# port with a two-model routes file, runs bench control_scale against it
# (STREAMS RouteDiscovery streams, ROUNDS new versions), stops it by PID.
#
#   cmake --build build --target llmgate-control control_scale
#   bench/control_scale.sh [STREAMS] [ROUNDS] [PER_CHANNEL]
# Figures: docs/BENCHMARKS.md "Control plane scale".
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=${LLMGATE_BIN_DIR:-$here/../build/bin}
streams=${1:-2000}
rounds=${2:-5}
per_channel=${3:-100}
[ -x "$bin/llmgate-control" ] || { echo "no $bin/llmgate-control: build it first" >&2; exit 2; }
[ -x "$bin/control_scale" ] || { echo "no $bin/control_scale: build it first" >&2; exit 2; }

dir=$(mktemp -d /tmp/llmgate-control-scale.XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT INT TERM

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$dir/routes.yaml" <<YAML
models:
  - {name: model-a, provider: fake}
  - {name: model-b, provider: fake}
routes:
  - {name: auto, default: [model-a, model-b]}
YAML
cat >"$dir/control.yaml" <<YAML
listen: "127.0.0.1:$port"
state_file: state.json
routes_file: routes.yaml
window: 60s
evaluate_every: 5s
YAML
export LLMGATE_ADMIN_TOKEN=bench-admin-token
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
"$bin/llmgate-control" --config "$dir/control.yaml" >"$dir/control.log" 2>&1 &
pid=$!
i=0
until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1',$port),0.2)" 2>/dev/null; do
  i=$((i + 1))
  [ $i -lt 100 ] || { echo "llmgate-control did not start:" >&2; cat "$dir/control.log" >&2; exit 1; }
  sleep 0.1
done
echo "llmgate-control pid $pid on 127.0.0.1:$port; $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
"$bin/control_scale" --server "127.0.0.1:$port" --streams "$streams" --per-channel "$per_channel" \
  --rounds "$rounds" --subject model-a --to model-b --server-pid "$pid" || status=$?
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
exit $status
