# Sourced by the SDK test drivers (run_sdk_test.sh, run_sdk_drain_test.sh):
# a temp folder, a cleanup trap that stops every PID in `pids` (SIGTERM, then
# wait), free_port, and fakellm started on a free loopback port ($fport).
# Needs BIN_DIR and HERE.
[ -d "$HERE/node_modules/openai" ] || { echo "e2e: node_modules missing: run scripts/install-e2e (make test does)" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

"$BIN_DIR/fakellm" --listen 127.0.0.1:0 >"$work/fakellm.out" 2>"$work/fakellm.err" &
pids+=($!)
for _ in $(seq 1 100); do grep -q 'listening on' "$work/fakellm.out" 2>/dev/null && break; sleep 0.05; done
fport=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$work/fakellm.out")
[ -n "$fport" ] || { echo "e2e: fakellm did not report its port" >&2; cat "$work/fakellm.err" >&2; exit 1; }
