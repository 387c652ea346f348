#!/usr/bin/env bash
# bench/syscalls.sh [BUILD_DIR] - system calls and context switches per
# request, nginx vs llmgate, in one run: the kernel's own tracepoint counters
# (perf stat -e 'syscalls:sys_enter_*'), which cost far less than strace and
# leave the batching of the servers as it is. Counted for the proxy and for
# fakellm behind it (a proxy that wakes fakellm more often makes it dearer).
#
# Same set-up as bench/run.sh: fakellm (--threads 1), nginx (1 worker) and
# llmgate (1 worker, access log off unless LOG=stdout) pinned to CPU 0, wrk to
# the last CPU; 127.0.0.1 only; everything stopped by PID on exit.
# Environment: CONNS [64]  DURATION [8]  TARGETS ["nginx llmgate"]  LOG [off]
#   LLMGATE [BUILD_DIR/bin/llmgate]  EVENTS [the I/O calls listed below]
# Needs perf (linux-perf) and root (or perf_event_paranoid <= 1).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
BUILD_DIR="${1:-build}"
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
CONNS="${CONNS:-64}"; DURATION="${DURATION:-8}"; TARGETS="${TARGETS:-nginx llmgate}"
# The calls a proxy makes per request (EVENTS='syscalls:sys_enter_*' counts
# all of them, but slows the servers more).
EVENTS="${EVENTS:-$(printf 'syscalls:sys_enter_%s,' recvfrom recvmsg read readv sendmsg sendto write writev \
  epoll_wait epoll_ctl ioctl getsockopt timerfd_settime futex | sed 's/,$//')}"
LAST=$(($(nproc) - 1))
command -v perf >/dev/null || { echo "syscalls.sh: perf not found (apt-get install linux-perf)" >&2; exit 1; }
W=$(mktemp -d /tmp/llmgate-sys.XXXXXX); PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

FP=$(port)
taskset -c 0 "$BUILD_DIR/bin/fakellm" --listen "127.0.0.1:$FP" --threads 1 >"$W/fake.log" 2>&1 &
FPID=$!; PIDS+=("$FPID")
NP=$(port); mkdir -p "$W/tmp"
sed -e "s#@RUN@#$W#g" -e "s#@PORT@#$NP#g" -e "s#@UPSTREAM@#127.0.0.1:$FP#g" \
  "$HERE/nginx-proxy.conf.in" >"$W/nginx.conf"
taskset -c 0 nginx -p "$W" -e "$W/nginx.error.log" -c "$W/nginx.conf" &
NPID=$!; PIDS+=("$NPID")
GP=$(port); AP=$(port)
cat >"$W/llmgate.yaml" <<Y
server: {listen: "127.0.0.1:$GP", admin_listen: "127.0.0.1:$AP", workers: 1}
logging: {level: warn, access_log: "${LOG:-off}"}
providers:
  - {name: fake, kind: openai, base_url: "http://127.0.0.1:$FP/v1", allow_private_network: true, max_connections: 256}
models:
  - {name: gpt-4o-mini, provider: fake, context_window: 128000, price_per_mtok: {input: 0.15, output: 0.6}}
Y
taskset -c 0 "${LLMGATE:-$BUILD_DIR/bin/llmgate}" --config "$W/llmgate.yaml" >"$W/llmgate.log" 2>&1 &
GPID=$!; PIDS+=("$GPID")
for ((i = 0; i < 100; i++)); do curl -sf -o /dev/null "http://127.0.0.1:$AP/readyz" && break; sleep 0.1; done
NW=$(pgrep -P "$NPID" | head -n1)

per_request() {   # perf-stat-CSV REQUESTS -> "name=count/request ..."
  awk -F, -v n="$2" '$1 + 0 > 0 { sub("syscalls:sys_enter_", "", $3); printf "%s=%.2f ", $3, $1 / n } END { print "" }' "$1"
}
for t in $TARGETS; do
  case $t in
    nginx) port=$NP; pid=$NW ;;
    llmgate) port=$GP; pid=$GPID ;;
    direct) port=$FP; pid=$FPID ;;
    *) echo "unknown target $t" >&2; exit 1 ;;
  esac
  url="http://127.0.0.1:$port/v1/chat/completions"
  BENCH_BODY="$HERE/request.json" taskset -c "$LAST" wrk -t1 -c"$CONNS" -d2s -s "$HERE/chat.lua" "$url" >/dev/null
  perf stat -x, -e "$EVENTS" -e context-switches -p "$FPID" -o "$W/fake.csv" & P1=$!
  perf stat -x, -e "$EVENTS" -e context-switches -p "$pid" -o "$W/proxy.csv" & P2=$!
  sleep 0.3
  out=$(BENCH_BODY="$HERE/request.json" taskset -c "$LAST" wrk -t1 -c"$CONNS" -d"${DURATION}s" -s "$HERE/chat.lua" "$url")
  kill -INT "$P1" "$P2"; wait "$P1" "$P2" 2>/dev/null || true
  n=$(awk '/requests in/ { print $1 }' <<<"$out")
  echo "== $t conns=$CONNS requests=$n req/s=$(awk '/Requests\/sec/ { print $2 }' <<<"$out") (counters run ~0.5 s longer than wrk)"
  echo "  proxy:   $(per_request "$W/proxy.csv" "$n")"
  [ "$t" = direct ] || echo "  fakellm: $(per_request "$W/fake.csv" "$n")"
done
