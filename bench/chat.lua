-- wrk script for bench/run.sh: POST a realistic ~1 KB OpenAI chat.completions
-- request (bench/request.json, the same bytes as ../shared/peers/wrk/request.json).
-- Adapted from ../shared/peers/wrk/chat.lua (same headers, same result line).
-- Env:
--   BENCH_BODY   path of the JSON request body (default: request.json)
--   BENCH_RATE   optional total req/s (with BENCH_CONNS): Poisson-paced arrivals
--   BENCH_CONNS  wrk connections (only used with BENCH_RATE)
-- Prints one machine-readable line "BENCH_RESULT k=v ..." in done().

local body_path = os.getenv("BENCH_BODY") or "request.json"
local f = assert(io.open(body_path, "rb"), "cannot open request body " .. body_path)
local body = f:read("*a")
f:close()
body = body:gsub("%s+$", "")

wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Accept"] = "application/json"
wrk.headers["Authorization"] = "Bearer sk-bench-not-a-real-key"

-- Optional pacing: each connection waits an exponentially distributed gap of
-- mean 1000*conns/rate ms before each request (whole ms, rounded stochastically).
local rate = tonumber(os.getenv("BENCH_RATE") or "")
local conns = tonumber(os.getenv("BENCH_CONNS") or "")
if rate and rate > 0 and conns and conns > 0 then
  local mean_ms = 1000 * conns / rate
  local addr = tonumber((tostring({}):match("0x(%x+)")) or "0", 16) or 0
  math.randomseed((os.time() + addr) % 2147483647)
  delay = function()
    local d = -mean_ms * math.log(1 - math.random())
    local whole = math.floor(d)
    if math.random() < d - whole then whole = whole + 1 end
    return whole
  end
end

-- No response() callback on purpose: it would copy every body into Lua and
-- cost load-generator CPU. Non-2xx/3xx answers are counted by wrk itself.

done = function(summary, latency, requests)
  local e = summary.errors
  local secs = summary.duration / 1e6
  io.write(string.format(
    "BENCH_RESULT requests=%d duration_s=%.3f rps=%.1f bytes=%d " ..
    "p50_us=%d p90_us=%d p99_us=%d p999_us=%d max_us=%d mean_us=%.1f " ..
    "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, secs, summary.requests / secs, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9), latency.max, latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
