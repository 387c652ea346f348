#!/usr/bin/env bash
# bench/run.sh [BUILD_DIR] - the price of one llmgate hop, measured against
# nginx (plain keep-alive reverse proxy) and against no hop at all, in ONE run:
#
#   direct   wrk -> fakellm
#   nginx    wrk -> nginx (1 worker, upstream keepalive pool) -> fakellm
#   llmgate  wrk -> llmgate (workers: 1)                       -> fakellm
#   llmgate-nolog  the same with the access log off (as the nginx peer has it)
#   nginx-log  nginx with a buffered JSON access log (llmgate's default's peer)
#
# fakellm (--threads 1), nginx and llmgate are pinned to CPU 0 (SERVER_CPUS),
# wrk to the last CPU (LOADGEN_CPUS), as ../shared/peers/peers.sh does. Each
# concurrency in CONNS is measured ROUNDS times, with the target order rotated
# every round; the table shows medians and the ratios issue 2 asks for.
# Everything listens on 127.0.0.1 only; everything started here is stopped by
# PID on exit. See bench/README.md.
#
# Environment (defaults in brackets):
#   ROUNDS [3]  DURATION [10] seconds per measurement  CONNS ["16 64"]
#   WARMUP [3] seconds per target before round 1      RATE [] paced total req/s
#   SERVER_CPUS [0]  LOADGEN_CPUS [last CPU]  PIN [auto: on with >= 2 CPUs]
#   WRK_THREADS [1]  OUT_DIR [bench/results/<timestamp>]  KEEP_RUN_DIR [0]
#   NOLOG [1]: also run "llmgate-nolog", llmgate with logging.access_log: "off"
#   NGINX_LOG [1]: also run "nginx-log", nginx with a buffered JSON access log
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"

BUILD_DIR="${1:-${BUILD_DIR:-build}}"
case "$BUILD_DIR" in /*) ;; *) BUILD_DIR="$ROOT/$BUILD_DIR" ;; esac
LLMGATE="$BUILD_DIR/bin/llmgate"
FAKELLM="$BUILD_DIR/bin/fakellm"

ROUNDS="${ROUNDS:-3}"
DURATION="${DURATION:-10}"
CONNS="${CONNS:-16 64}"
WARMUP="${WARMUP:-3}"
RATE="${RATE:-}"
PIN="${PIN:-auto}"
WRK_THREADS="${WRK_THREADS:-1}"
WRK_TIMEOUT="${WRK_TIMEOUT:-5s}"
START_TIMEOUT="${START_TIMEOUT:-20}"
KEEP_RUN_DIR="${KEEP_RUN_DIR:-0}"
NOLOG="${NOLOG:-1}"
NGINX_LOG="${NGINX_LOG:-1}"
OUT_DIR="${OUT_DIR:-$HERE/results/$(date +%Y%m%d-%H%M%S)}"
BODY="$HERE/request.json"
LUA="$HERE/chat.lua"
CHAT_PATH="/v1/chat/completions"

die() { echo "bench: $*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "missing: $1 (apt-get install $2)"; }
need wrk wrk; need nginx nginx; need curl curl; need ss iproute2; need setsid util-linux; need awk gawk
[ -x "$LLMGATE" ] || die "$LLMGATE not found: build first (cmake --build $BUILD_DIR --target llmgate fakellm)"
[ -x "$FAKELLM" ] || die "$FAKELLM not found: build first (cmake --build $BUILD_DIR --target llmgate fakellm)"
for v in ROUNDS DURATION WARMUP; do [[ "${!v}" =~ ^[0-9]+$ ]] || die "$v must be a whole number"; done
[ "$ROUNDS" -ge 1 ] && [ "$DURATION" -ge 1 ] || die "ROUNDS and DURATION must be >= 1"

ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ------------------------------------------------------------------ pinning
NCPU=$(nproc)
if [ "$PIN" = auto ]; then
  if [ "$NCPU" -ge 2 ] && command -v taskset >/dev/null 2>&1; then PIN=1; else PIN=0; fi
fi
SRV=(); LG=()
if [ "$PIN" = 1 ]; then
  SERVER_CPUS="${SERVER_CPUS:-0}"
  LOADGEN_CPUS="${LOADGEN_CPUS:-$((NCPU - 1))}"
  SRV=(taskset -c "$SERVER_CPUS"); LG=(taskset -c "$LOADGEN_CPUS")
else
  SERVER_CPUS="-"; LOADGEN_CPUS="-"
fi

# ------------------------------------------------------------------ bookkeeping
RUN_DIR="$(mktemp -d "${TMPDIR:-/tmp}/llmgate-bench.XXXXXX")"
mkdir -p "$RUN_DIR/tmp"
STARTED=()                      # PIDs we started, each a session/process-group leader (setsid)

alive() { local s; s=$(ps -o stat= -p "$1" 2>/dev/null || true); [ -n "$s" ] && [ "${s:0:1}" != Z ]; }

cleanup() {
  local rc=$? pid i any
  trap - EXIT INT TERM
  for pid in "${STARTED[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for i in $(seq 1 50); do
    any=0
    for pid in "${STARTED[@]}"; do alive "$pid" && any=1; done
    [ "$any" = 0 ] && break
    sleep 0.1
  done
  for pid in "${STARTED[@]}"; do
    if alive "$pid"; then kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; fi
  done
  wait 2>/dev/null || true
  if [ "$KEEP_RUN_DIR" = 1 ] || [ "$rc" != 0 ]; then
    echo "bench: run folder (configs, server logs) kept in $RUN_DIR" >&2
  else
    rm -rf "$RUN_DIR"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_bg() {                    # NAME CMD... : own session, pinned to SERVER_CPUS; LAST_PID = its PID
  local name=$1 i; shift
  # setsid forks when the caller is a process-group leader (job control on):
  # the server writes its own PID (it is the session leader) before exec.
  rm -f "$RUN_DIR/$name.started-pid"
  setsid "${SRV[@]}" bash -c 'echo $$ >"$0"; exec "$@"' "$RUN_DIR/$name.started-pid" "$@" \
    >"$RUN_DIR/$name.log" 2>&1 </dev/null &
  for ((i = 0; i < 100; i++)); do [ -s "$RUN_DIR/$name.started-pid" ] && break; sleep 0.05; done
  LAST_PID=$(cat "$RUN_DIR/$name.started-pid" 2>/dev/null || echo $!)
  STARTED+=("$LAST_PID")
}

port_free() { [ -z "$(ss -tanH "sport = :$1" 2>/dev/null)" ]; }   # no socket in any state
TAKEN=" "
# Ports below the kernel's ephemeral range, so no outgoing connection takes one
# between this check and the bind.
read -r EPH_LO _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || EPH_LO=32768
[ "${EPH_LO:-0}" -gt 12000 ] || EPH_LO=32768
free_port() {                   # a free 127.0.0.1 TCP port not handed out before in this run
  local p i
  for i in $(seq 1 200); do
    p=$((10000 + (RANDOM * 32768 + RANDOM) % (EPH_LO - 10000)))
    if [[ "$TAKEN" != *" $p "* ]] && port_free "$p"; then TAKEN+="$p "; echo "$p"; return 0; fi
  done
  die "no free port found"
}

http_code() { curl -s -o /dev/null -m 2 -w '%{http_code}' "$@" 2>/dev/null || true; }

wait_ready() {                  # URL PID NAME : until URL answers 200
  local i
  for ((i = 0; i < START_TIMEOUT * 10; i++)); do
    [ "$(http_code "$1")" = 200 ] && return 0
    alive "$2" || { echo "bench: $3 exited; log:" >&2; tail -n 20 "$RUN_DIR/$3.log" >&2; return 1; }
    sleep 0.1
  done
  echo "bench: $3 not ready after ${START_TIMEOUT}s; log:" >&2; tail -n 20 "$RUN_DIR/$3.log" >&2
  return 1
}

check_chat() {                  # NAME URL : 200 with a chat.completion body
  local out code body
  out=$(curl -s -m 10 -w '\n%{http_code}' -X POST "$2" \
        -H 'Content-Type: application/json' -H 'Accept: application/json' \
        -H 'Authorization: Bearer sk-bench-not-a-real-key' --data-binary @"$BODY" 2>/dev/null || true)
  code=${out##*$'\n'}; body=${out%$'\n'*}
  if [ "$code" = 200 ] && grep -q '"chat.completion"' <<<"$body"; then return 0; fi
  die "$1 ($2) answered HTTP ${code:-none}: ${body:0:300}"
}

tree_pids() { local c; echo "$1"; for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do tree_pids "$c"; done; }

cpu_ticks() {                   # PID -> "utime stime" (clock ticks), whole process tree (nginx: master + worker)
  local u=0 k=0 p s f
  for p in $(tree_pids "$1"); do
    s=$(cat "/proc/$p/stat" 2>/dev/null) || continue
    s=${s##*) }
    read -r -a f <<<"$s"
    u=$((u + f[11])); k=$((k + f[12]))
  done
  echo "$u $k"
}

rss_kb() {                      # PID FIELD(VmRSS|VmHWM) -> kB over the process tree
  local t=0 p v
  for p in $(tree_pids "$1"); do
    v=$(awk -v k="$2:" '$1 == k { print $2 }' "/proc/$p/status" 2>/dev/null || true)
    t=$((t + ${v:-0}))
  done
  echo "$t"
}

assert_loopback() {             # PID NAME : abort if it listens anywhere but loopback
  local p bad=""
  for p in $(tree_pids "$1"); do
    bad+=$(ss -ltnpH 2>/dev/null | grep "pid=$p," | awk '{print $4}' \
           | grep -v -E '^(127\.[0-9.]+|\[::1\]|\[::ffff:127\.[0-9.]+\]):[0-9]+$' || true)
  done
  [ -z "$bad" ] || die "$2 (PID $1) listens on a non-loopback address: $bad"
}

CLK_TCK=$(getconf CLK_TCK)

# ------------------------------------------------------------------ fakellm
FAKE_PORT=$(free_port)
start_bg fakellm "$FAKELLM" --listen "127.0.0.1:$FAKE_PORT" --threads 1
FAKE_PID=$LAST_PID
for ((i = 0; i < START_TIMEOUT * 10; i++)); do
  grep -q "fakellm listening on" "$RUN_DIR/fakellm.log" 2>/dev/null && break
  alive "$FAKE_PID" || { cat "$RUN_DIR/fakellm.log" >&2; die "fakellm exited"; }
  sleep 0.1
done
grep -q "fakellm listening on 127.0.0.1:$FAKE_PORT" "$RUN_DIR/fakellm.log" || { cat "$RUN_DIR/fakellm.log" >&2; die "fakellm did not start"; }
FAKE_BASE="http://127.0.0.1:$FAKE_PORT"

# ------------------------------------------------------------------ nginx -> fakellm
declare -A URL=() PID=() ADMIN=()
start_nginx() {                 # NAME PREFIX [ACCESS_LOG_CONFIG] : nginx-proxy.conf.in, started; sets URL, PID
  local name=$1 prefix=$2 logcfg=${3:-} port t
  port=$(free_port)
  mkdir -p "$prefix/tmp"
  t=$(<"$HERE/nginx-proxy.conf.in")
  t=${t//@RUN@/"$prefix"}; t=${t//@PORT@/"$port"}; t=${t//@UPSTREAM@/"127.0.0.1:$FAKE_PORT"}
  if [ -n "$logcfg" ]; then
    t=${t//"access_log off;"/"$logcfg"}
    [[ "$t" != *"access_log off;"* ]] || die "$name: the template's access_log line was not replaced"
  fi
  printf '%s\n' "$t" >"$RUN_DIR/$name.conf"
  start_bg "$name" nginx -p "$prefix" -e "$RUN_DIR/$name.error.log" -c "$RUN_DIR/$name.conf"
  URL[$name]="http://127.0.0.1:$port$CHAT_PATH"; PID[$name]=$LAST_PID
}
wait_nginx() {                  # NAME : until it answers HTTP at all
  local name=$1 i
  for ((i = 0; i < START_TIMEOUT * 10; i++)); do
    [ "$(http_code "${URL[$name]%"$CHAT_PATH"}/")" != 000 ] && return 0
    alive "${PID[$name]}" || { cat "$RUN_DIR/$name.log" "$RUN_DIR/$name.error.log" >&2 2>/dev/null; die "$name exited"; }
    sleep 0.1
  done
  die "$name not answering after ${START_TIMEOUT}s"
}
start_nginx nginx "$RUN_DIR"

# nginx-log: the same nginx with an access log, the like-for-like peer of
# llmgate's default (its access log on). One JSON line per request, escaped,
# buffered and flushed as llmgate's writer does (every 10 ms there, here
# when 64 KiB fill or after 1 s, nginx's usual production setting).
NGINX_ACCESS_LOG="$RUN_DIR/log/nginx.access.log"
if [ "$NGINX_LOG" = 1 ]; then
  fmt='{"time":"$time_iso8601","request_id":"$request_id","method":"$request_method","path":"$uri",'
  fmt+='"status":$status,"bytes_sent":$bytes_sent,"duration_ms":$request_time,'
  fmt+='"upstream":"$upstream_addr","upstream_status":"$upstream_status","upstream_ms":"$upstream_response_time"}'
  start_nginx nginx-log "$RUN_DIR/log" \
    "log_format bench_json escape=json '$fmt';"$'\n'"    access_log $NGINX_ACCESS_LOG bench_json buffer=64k flush=1s;"
fi

# ------------------------------------------------------------------ llmgate -> fakellm
start_llmgate() {               # NAME EXTRA_LOGGING_YAML
  local name=$1 extra=$2 port admin
  port=$(free_port); admin=$(free_port)
  cat >"$RUN_DIR/$name.yaml" <<EOF
server: {listen: "127.0.0.1:$port", admin_listen: "127.0.0.1:$admin", workers: 1, drain_timeout: 2s}
logging: {level: warn$extra}
providers:
  - {name: fake, kind: openai, base_url: "$FAKE_BASE/v1", allow_private_network: true, max_connections: 256}
models:
  - {name: gpt-4o-mini, provider: fake, context_window: 128000, price_per_mtok: {input: 0.15, output: 0.6}}
EOF
  start_bg "$name" "$LLMGATE" --config "$RUN_DIR/$name.yaml"
  URL[$name]="http://127.0.0.1:$port$CHAT_PATH"; PID[$name]=$LAST_PID; ADMIN[$name]="127.0.0.1:$admin"
}
ready_llmgate() {               # NAME : wait for /readyz; a port taken in the meantime gets 2 more tries
  local name=$1 extra
  for _ in 1 2 3; do
    wait_ready "http://${ADMIN[$name]}/readyz" "${PID[$name]}" "$name" && return 0
    grep -q "Address already in use" "$RUN_DIR/$name.log" 2>/dev/null || break
    echo "bench: $name: port taken, retrying with other ports" >&2
    extra=$(sed -n 's/^logging: {level: warn\(.*\)}$/\1/p' "$RUN_DIR/$name.yaml")
    start_llmgate "$name" "$extra"
  done
  die "$name did not become ready"
}
TARGETS=(direct nginx llmgate)
[ "$NGINX_LOG" = 1 ] && TARGETS+=(nginx-log)
# llmgate as configured above: its defaults, i.e. the access log on (stdout, here a file).
start_llmgate llmgate ""
# llmgate-nolog: the same with logging.access_log: "off", like the nginx peer (access_log off).
if [ "$NOLOG" = 1 ]; then start_llmgate llmgate-nolog ', access_log: "off"'; TARGETS+=(llmgate-nolog); fi

# ------------------------------------------------------------------ readiness + correctness
for t in "${TARGETS[@]}"; do
  case "$t" in llmgate*) ready_llmgate "$t" ;; nginx*) wait_nginx "$t" ;; esac
done
URL[direct]="$FAKE_BASE$CHAT_PATH"; PID[direct]=$FAKE_PID
for t in "${TARGETS[@]}"; do
  assert_loopback "${PID[$t]}" "$t"
  check_chat "$t" "${URL[$t]}"
  echo "  $t: ok  ${URL[$t]}  (pid ${PID[$t]})"
done

# ------------------------------------------------------------------ output files
mkdir -p "$OUT_DIR"
RAW="$OUT_DIR/raw.tsv"; META="$OUT_DIR/meta.txt"; MEM="$OUT_DIR/mem.tsv"
printf 'round\tconns\ttarget\trequests\tduration_s\trps\tp50_us\tp90_us\tp99_us\tp999_us\tmax_us\tmean_us\terrors\tcpu_us_per_req\tfakellm_cpu_us_per_req\tloadavg1\tuser_us_per_req\tsys_us_per_req\n' >"$RAW"
printf 'target\tpid\trss_idle_kb\trss_after_kb\thwm_kb\n' >"$MEM"
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo -)
dirty=$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -q . && echo " (working tree has uncommitted changes)" || true)
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $commit$dirty (the tree bench/run.sh runs from; the binaries are the ones below)"
  echo "host: $(uname -srm), $NCPU CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo))"
  echo "pinning: PIN=$PIN server CPUs=$SERVER_CPUS (fakellm, nginx, llmgate) loadgen CPUs=$LOADGEN_CPUS wrk threads=$WRK_THREADS"
  echo "settings: CONNS='$CONNS' DURATION=${DURATION}s ROUNDS=$ROUNDS WARMUP=${WARMUP}s RATE=${RATE:-max (closed loop)}"
  echo "versions: $(nginx -v 2>&1 | head -n1); $({ wrk -v 2>&1 || true; } | head -n1); $("$LLMGATE" --version 2>&1 | head -n1); $("$FAKELLM" --version 2>&1 | head -n1)"
  echo "binaries: $LLMGATE, $FAKELLM"
  echo "request body: bench/request.json, $(wc -c <"$BODY") bytes"
  echo "targets: $(for t in "${TARGETS[@]}"; do printf '%s=%s ' "$t" "${URL[$t]}"; done)"
  echo "loadavg at start: $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$META"
cp "$RUN_DIR"/llmgate*.yaml "$RUN_DIR"/nginx*.conf "$OUT_DIR/"
cat "$META"

declare -A RSS_IDLE=()
for t in "${TARGETS[@]}"; do RSS_IDLE[$t]=$(rss_kb "${PID[$t]}" VmRSS); done

# ------------------------------------------------------------------ measurement
run_wrk() {                     # URL CONNS SECONDS LOGFILE
  local th=$WRK_THREADS
  [ "$2" -lt "$th" ] && th=$2
  BENCH_BODY="$BODY" BENCH_RATE="$RATE" BENCH_CONNS="$2" \
    timeout -k 5 $(( $3 + 30 )) "${LG[@]}" wrk -t"$th" -c"$2" -d"$3s" --latency --timeout "$WRK_TIMEOUT" \
    -s "$LUA" "$1" >"$4" 2>&1 || true
}
kv() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
per_req() { awk -v d="$1" -v hz="$CLK_TCK" -v n="$2" 'BEGIN { if (n > 0) printf "%.1f", d * 1e6 / hz / n; else printf "NA" }'; }

nt=${#TARGETS[@]}; nc=$(wc -w <<<"$CONNS")
echo "== ${nt} targets x ${nc} concurrencies x ${ROUNDS} rounds x ${DURATION}s (about $(( nt * nc * ROUNDS * (DURATION + 1) + nt * (WARMUP + 1) ))s)"

if [ "$WARMUP" -gt 0 ]; then
  for t in "${TARGETS[@]}"; do run_wrk "${URL[$t]}" 16 "$WARMUP" "$RUN_DIR/warmup-$t.txt"; done
fi

mkdir -p "$OUT_DIR/wrk"
for ((r = 1; r <= ROUNDS; r++)); do
  for c in $CONNS; do
    for ((k = 0; k < nt; k++)); do
      t=${TARGETS[$(( (k + r - 1) % nt ))]}     # rotate the order every round
      log="$OUT_DIR/wrk/r$r-c$c-$t.txt"
      read -r u0 k0 <<<"$(cpu_ticks "${PID[$t]}")"; read -r fu0 fk0 <<<"$(cpu_ticks "$FAKE_PID")"
      run_wrk "${URL[$t]}" "$c" "$DURATION" "$log"
      read -r u1 k1 <<<"$(cpu_ticks "${PID[$t]}")"; read -r fu1 fk1 <<<"$(cpu_ticks "$FAKE_PID")"
      for d in "$t" direct; do     # a server that died makes the row meaningless: stop here
        alive "${PID[$d]}" || die "$d (pid ${PID[$d]}) died during round $r c=$c $t (crash, or killed from outside?); log tail: $(tail -n 3 "$RUN_DIR/$([ "$d" = direct ] && echo fakellm || echo "$d").log" 2>/dev/null | tr '\n' ' '); rows so far: $RAW"
      done
      line=$(grep '^BENCH_RESULT' "$log" || true)
      if [ -z "$line" ]; then
        echo "  round $r c=$c $t: wrk failed: $(tail -n 3 "$log" | tr '\n' ' ')" >&2
        continue
      fi
      reqs=$(kv requests "$line")
      errs=$(( $(kv err_connect "$line") + $(kv err_read "$line") + $(kv err_write "$line") + $(kv err_status "$line") + $(kv err_timeout "$line") ))
      cpu=$(per_req $((u1 + k1 - u0 - k0)) "$reqs"); fcpu=$(per_req $((fu1 + fk1 - fu0 - fk0)) "$reqs")
      ucpu=$(per_req $((u1 - u0)) "$reqs"); kcpu=$(per_req $((k1 - k0)) "$reqs")
      printf '%d\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\n' "$r" "$c" "$t" "$reqs" \
        "$(kv duration_s "$line")" "$(kv rps "$line")" "$(kv p50_us "$line")" "$(kv p90_us "$line")" \
        "$(kv p99_us "$line")" "$(kv p999_us "$line")" "$(kv max_us "$line")" "$(kv mean_us "$line")" \
        "$errs" "$cpu" "$fcpu" "$(cut -d' ' -f1 /proc/loadavg)" "$ucpu" "$kcpu" >>"$RAW"
      printf '  round %d c=%-3d %-8s rps=%-9s p50=%7.2fms p99=%7.2fms cpu/req=%6sus (fakellm %sus) errors=%d\n' \
        "$r" "$c" "$t" "$(kv rps "$line")" \
        "$(awk -v u="$(kv p50_us "$line")" 'BEGIN{print u/1000}')" \
        "$(awk -v u="$(kv p99_us "$line")" 'BEGIN{print u/1000}')" "$cpu" "$fcpu" "$errs"
    done
  done
done

for t in "${TARGETS[@]}"; do
  if alive "${PID[$t]}"; then
    printf '%s\t%s\t%s\t%s\t%s\n' "$t" "${PID[$t]}" "${RSS_IDLE[$t]}" "$(rss_kb "${PID[$t]}" VmRSS)" "$(rss_kb "${PID[$t]}" VmHWM)" >>"$MEM"
  else
    printf '%s\t%s\tNA\tNA\tNA\n' "$t" "${PID[$t]}" >>"$MEM"
  fi
done
echo "loadavg at end: $(cut -d' ' -f1-3 /proc/loadavg)" >>"$META"
if [ "$NGINX_LOG" = 1 ]; then   # the like-for-like peer really logged (flushed at exit)
  kill -QUIT "${PID[nginx-log]}" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do alive "${PID[nginx-log]}" || break; sleep 0.1; done
  echo "nginx-log access log lines: $(wc -l <"$NGINX_ACCESS_LOG" 2>/dev/null || echo 0); last: $(tail -n 1 "$NGINX_ACCESS_LOG" 2>/dev/null | cut -c1-300)" >>"$META"
fi
for f in "$RUN_DIR"/*.log; do    # server logs; llmgate's stdout is its access log: keep the tail only
  [ -f "$f" ] && tail -n 200 "$f" >"$OUT_DIR/$(basename "$f")"
done

"$HERE/summarize.sh" "$OUT_DIR" | tee "$OUT_DIR/summary.md"
echo "raw results: $OUT_DIR"
