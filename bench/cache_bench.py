#!/usr/bin/env python3
"""Issue 4's cache figures, side by side in one run (everything on 127.0.0.1).

(a) L1 hit: llmgate (cache on, 1 worker) answers a deterministic ~1 KB request
    (../shared/peers/wrk/request-t0.json, temperature 0, seed 7) warmed once.
    a paced ~1000 req/s (10 connections) gives p50/p99; then closed-loop max throughput (wrk -t1 -c32)
    of the hit path against nginx (1 worker, keepalive upstream) passing the
    same request through to fakellm. The paced client is bench/paced_load
    (C++, open loop, Poisson arrivals, pinned to the last CPU and polling so
    its own wake-ups stay out of the figures); fakellm direct in the same
    harness shows the client's floor. Targets: p99 < 250 us; hit req/s >=
    1.5x nginx pass-through req/s.
(b) L2 hit: llmgate with Redis (redis-server on loopback) and l1.max_bytes
    1 KiB: a shard's share (64 B) is smaller than any entry, so L1 refuses the
    entry (on store and on promotion) and every hit is served from Redis
    (checked: x-llmgate-cache: hit-l2 and llmgate_cache_lookups_total). Paced ~1000 req/s. Target p99 < 1 ms.
(c) L1 memory: a fresh llmgate (cache on, L1 1 GiB), N distinct deterministic
    requests (default 100k) after a warm-up of 2k; RSS growth / N versus the
    mean stored answer size. Target <= 1.3x answer + 256 B. Control: the same
    with cache.mode off (growth not due to the cache).
(d) Trace: 3000 requests of equal token cost, exactly 30 % of them exact
    repeats of an earlier one, replayed through a fresh llmgate; upstream calls
    (fakellm's request count) and cost (llmgate_cost_usd_total vs
    llmgate_cache_saved_usd_total) must drop by exactly 30 %. Sequential, then
    again with 16 concurrent clients (repeats may then be coalesced).

Idle states: with --idle both (default) the paced runs of (a) and (b) are made
twice per round: as the machine is (on this KVM guest an idle vCPU halts, and
waking it costs a VM exit; the client's floor shows it), and again while the
bench holds a PM QoS request of 0 µs on /dev/cpu_dma_latency, which keeps idle
CPUs polling instead of halting (what cyclictest does by default). Both sets
are reported. The closed-loop runs keep the CPUs busy and are made once, as the
machine is.

Rounds (a) and (b) are repeated --rounds times (default 3); medians reported.
Usage: bench/cache_bench.py [--bin build-bench2/bin] [--rounds 3] [--mem-entries 100000]
"""

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

from benchlib import free_port, metric_sum, wait_for

HOST = "127.0.0.1"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_WRK = os.path.join(os.path.dirname(REPO), "shared", "peers", "wrk")
BODY_FILE = os.path.join(SHARED_WRK, "request-t0.json")
CHAT_LUA = os.path.join(SHARED_WRK, "chat.lua")


def http(port, method, path, body=None, headers=None, timeout=10):
    req = urllib.request.Request("http://%s:%d%s" % (HOST, port, path), data=body, method=method)
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict((k.lower(), v) for k, v in r.headers.items()), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict((k.lower(), v) for k, v in e.headers.items()), e.read()


class Procs:
    def __init__(self, workdir):
        self.workdir = workdir
        self.procs = {}

    def start(self, name, argv, env=None):
        out = open(os.path.join(self.workdir, name + ".out"), "wb")
        err = open(os.path.join(self.workdir, name + ".err"), "wb")
        e = dict(os.environ)
        e.update(env or {})
        p = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=e)
        out.close()
        err.close()
        self.procs[name] = p
        return p

    def log(self, name):
        text = ""
        for ext in (".out", ".err"):
            try:
                with open(os.path.join(self.workdir, name + ext), "rb") as f:
                    text += f.read().decode("utf-8", "replace")
            except FileNotFoundError:
                pass
        return text

    def stop(self, name):
        p = self.procs.pop(name, None)
        if p is not None and p.poll() is None:
            p.send_signal(signal.SIGTERM)
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)

    def stop_all(self):
        for name in list(self.procs)[::-1]:
            self.stop(name)


def start_fakellm(procs, bindir, name, *extra):
    procs.start(name, [os.path.join(bindir, "fakellm"), "--listen", HOST + ":0"] + list(extra))
    pat = re.compile(r"fakellm listening on 127\.0\.0\.1:(\d+)")
    return int(wait_for(lambda: (pat.search(procs.log(name)) or [None, None])[1], 10,
                        name + " port"))


GATE = """\
server: {listen: "127.0.0.1:@PORT@", admin_listen: "127.0.0.1:@APORT@", workers: @WORKERS@,
         idle_timeout: 60s}
logging: {level: warn, access_log: "off"}
cache: @CACHE@
providers:
  - {name: fake, kind: openai, base_url: "http://127.0.0.1:@F@/v1", api_key_env: FAKE_KEY,
     allow_private_network: true}
models:
  - {name: gpt-4o-mini, provider: fake, upstream_model: gpt-4o-mini, context_window: 128000,
     price_per_mtok: {input: 0.15, output: 0.6}}
"""


def start_gate(procs, args, name, fport, cache, workers=1):
    port, aport = free_port(), free_port()
    cfg = (GATE.replace("@PORT@", str(port)).replace("@APORT@", str(aport))
           .replace("@F@", str(fport)).replace("@CACHE@", cache).replace("@WORKERS@", str(workers)))
    path = os.path.join(procs.workdir, name + ".yaml")
    with open(path, "w") as f:
        f.write(cfg)
    p = procs.start(name, [os.path.join(args.bin, "llmgate"), "--config", path],
                    env={"FAKE_KEY": "sk-bench-cache"})

    def ready():
        if p.poll() is not None:
            raise SystemExit("%s exited: %s" % (name, procs.log(name)[-2000:]))
        return http(aport, "GET", "/readyz", timeout=2)[0] == 200

    wait_for(ready, 15, name + " /readyz")
    return port, aport, p


def metrics(aport):
    return http(aport, "GET", "/metrics")[2].decode()


def rss_bytes(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def wrk(port, seconds, conns, rate=None):
    env = dict(os.environ)
    env["BENCH_BODY"] = BODY_FILE
    if rate:
        env["BENCH_RATE"] = str(rate)
        env["BENCH_CONNS"] = str(conns)
    else:
        env.pop("BENCH_RATE", None)
    out = subprocess.run(["wrk", "-t1", "-c%d" % conns, "-d%ds" % seconds, "--timeout", "5s",
                          "-s", CHAT_LUA, "http://%s:%d/v1/chat/completions" % (HOST, port)],
                         env=env, capture_output=True, text=True, timeout=seconds + 30).stdout
    r = result_line(out, "BENCH_RESULT", "wrk")
    r["errors"] = sum(r[k] for k in r if k.startswith("err_"))
    return r


def result_line(out, tag, tool):
    """The numbers of the `TAG key=value ...` line a load generator printed."""
    m = re.search(tag + r" (.*)", out)
    if not m:
        raise SystemExit("%s printed no %s line:\n%s" % (tool, tag, out))
    return {k: float(v) for k, _, v in (kv.partition("=") for kv in m.group(1).split())}


def paced(args, port, seconds, rate):
    """bench/paced_load (open loop, Poisson arrivals, 10 keep-alive connections),
    pinned to the last CPU and polling (--spin) so that its own wake-ups stay
    out of the figures; `--paced-client wrk` uses wrk + chat.lua instead."""
    if args.paced_client == "wrk":
        return wrk(port, seconds, 10, rate=rate)
    cmd = [os.path.join(args.bin, "paced_load"), "--port", str(port), "--body", BODY_FILE,
           "--rate", str(rate), "--seconds", str(seconds), "--connections", "10", "--spin"]
    last = os.cpu_count() - 1
    if last > 0 and shutil.which("taskset"):
        cmd = ["taskset", "-c", str(last)] + cmd
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    r = result_line(out, "PACED", "paced_load")
    r["errors"] = r["errors"] + r["non2xx"]
    return r


class IdlePolling:
    """Holds a PM QoS request of 0 µs on /dev/cpu_dma_latency while open: the
    kernel then keeps idle CPUs in their polling state (no halt, no VM exit on
    wake-up). Released when the file is closed. `available` is False without
    the file or the right to write it."""

    PATH = "/dev/cpu_dma_latency"

    def __init__(self):
        self.fd = None

    @staticmethod
    def available():
        return os.path.exists(IdlePolling.PATH) and os.access(IdlePolling.PATH, os.W_OK)

    def __enter__(self):
        self.fd = os.open(self.PATH, os.O_WRONLY)
        os.write(self.fd, (0).to_bytes(4, sys.byteorder, signed=True))
        return self

    def __exit__(self, *exc):
        os.close(self.fd)
        self.fd = None


def cpu_seconds(pid):
    """utime + stime of pid and its direct children (nginx's worker)."""
    pids = [pid]
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            pids += [int(x) for x in f.read().split()]
    except OSError:
        pass
    total = 0
    for q in pids:
        try:
            with open("/proc/%d/stat" % q) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / os.sysconf("SC_CLK_TCK")


def wrk_cpu(pid, port, seconds, conns):
    c0 = cpu_seconds(pid)
    r = wrk(port, seconds, conns)
    r["cpu_s"] = cpu_seconds(pid) - c0
    r["per_cpu_s"] = r["requests"] / r["cpu_s"] if r["cpu_s"] else float("nan")
    return r


def loadavg():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


# --------------------------------------------------------------------------
# Async client for (c) and (d)


async def post_many(port, bodies, conns, record=None):
    """POSTs every body once over `conns` keep-alive connections; returns
    (count, non-200 count, total response body bytes, cache header counts)."""
    it = iter(enumerate(bodies))
    stats = {"n": 0, "bad": 0, "bytes": 0, "cache": {}}

    async def worker():
        reader, writer = await asyncio.open_connection(HOST, port)
        for i, body in it:
            writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                         b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                         % len(body) + body)
            head = await reader.readuntil(b"\r\n\r\n")
            hl = head.decode("latin-1").lower()
            n = int(re.search(r"content-length:\s*(\d+)", hl).group(1))
            data = await reader.readexactly(n)
            stats["n"] += 1
            status = int(hl.split()[1])
            if status != 200:
                stats["bad"] += 1
            stats["bytes"] += len(data)
            m = re.search(r"x-llmgate-cache:\s*([\w-]+)", hl)
            c = m.group(1) if m else "none"
            stats["cache"][c] = stats["cache"].get(c, 0) + 1
            if record is not None:
                record.append((i, c, data))
        writer.close()

    await asyncio.gather(*(worker() for _ in range(conns)))
    return stats


def chat_body(text):
    return json.dumps({"model": "gpt-4o-mini", "temperature": 0, "max_tokens": 512,
                       "messages": [{"role": "user", "content": text}]}).encode()


# --------------------------------------------------------------------------


def part_ab(args, procs, out):
    fport = start_fakellm(procs, args.bin, "fake-ab")
    # nginx pass-through
    run = os.path.join(procs.workdir, "nginx")
    os.makedirs(os.path.join(run, "tmp"), exist_ok=True)
    nport = free_port()
    with open(os.path.join(REPO, "bench", "nginx-bench2.conf.in")) as f:
        conf = f.read().replace("@RUN@", run).replace("@PORT@", str(nport)).replace(
            "@UPSTREAM@", "127.0.0.1:%d" % fport)
    with open(os.path.join(run, "nginx.conf"), "w") as f:
        f.write(conf)
    procs.start("nginx", ["nginx", "-c", os.path.join(run, "nginx.conf"), "-p", run])
    wait_for(lambda: http(nport, "GET", "/_fakellm/health", timeout=2)[0] == 200, 10, "nginx")
    # redis
    rport = free_port()
    procs.start("redis", ["redis-server", "--port", str(rport), "--bind", HOST, "--save", "",
                          "--appendonly", "no", "--dir", procs.workdir])
    wait_for(lambda: socket.create_connection((HOST, rport), 1).close() or True, 10, "redis")
    g1, a1, gp1 = start_gate(procs, args, "gate-l1", fport, "{mode: deterministic}")
    g2, a2, _ = start_gate(procs, args, "gate-l2", fport,
                           '{mode: deterministic, l1: {max_bytes: 1KiB}, redis: {url: "redis://127.0.0.1:%d"}}'
                           % rport)
    with open(BODY_FILE, "rb") as f:
        body = f.read().strip()
    for port, want in ((g1, "hit-l1"), (g2, "hit-l2")):
        http(port, "POST", "/v1/chat/completions", body)  # warm (miss, stored)
        time.sleep(0.1)
        st, h, _ = http(port, "POST", "/v1/chat/completions", body)
        if st != 200 or h.get("x-llmgate-cache") != want:
            raise SystemExit("expected %s on port %d, got %d %s" % (want, port, st,
                                                                    h.get("x-llmgate-cache")))
    rows = []
    for rnd in range(1, args.rounds + 1):
        r = {"round": rnd, "load": loadavg()}
        m0 = metrics(a2)
        # fakellm's request counter around the hit runs only: the nginx runs
        # call it by design (and nginx may retry on a connection fakellm closed).
        def fake_requests():
            return json.loads(http(fport, "GET", "/_fakellm/stats")[2])["requests"]
        r["fake_during_hits"] = 0
        l2_requests = 0
        for suffix in idle_modes(args):
            def run_paced():
                f0 = fake_requests()
                r["l1_paced" + suffix] = paced(args, g1, args.paced_seconds, args.rate)
                r["l2_paced" + suffix] = paced(args, g2, args.paced_seconds, args.rate)
                r["fake_during_hits"] += fake_requests() - f0
                r["nginx_paced" + suffix] = paced(args, nport, args.paced_seconds, args.rate)
                r["fake_paced" + suffix] = paced(args, fport, args.paced_seconds, args.rate)
            if suffix:
                with IdlePolling():
                    run_paced()
            else:
                run_paced()
            l2_requests += r["l2_paced" + suffix]["requests"]
        m1 = metrics(a2)
        r["l2_hits"] = (metric_sum(m1, "llmgate_cache_lookups_total", tier="l2", result="hit")
                        - metric_sum(m0, "llmgate_cache_lookups_total", tier="l2", result="hit"))
        f0 = fake_requests()
        r["l1_max"] = wrk_cpu(gp1.pid, g1, args.max_seconds, 32)
        r["fake_during_hits"] += fake_requests() - f0
        r["nginx_max"] = wrk_cpu(procs.procs["nginx"].pid, nport, args.max_seconds, 32)
        r["fake_direct_max"] = wrk_cpu(procs.procs["fake-ab"].pid, fport, args.max_seconds, 32)
        rows.append(r)
        r["l2_hits_ok"] = r["l2_hits"] >= l2_requests
        s0 = "" if "l1_paced" in r else "_poll"  # the first mode run
        print("[a/b round %d, load %s] L1 paced p50 %d us p99 %d us (%.0f/s) | L2 paced p50 %d us "
              "p99 %d us (%.0f/s, l2 hits %d) | nginx paced p99 %d us | max: L1 hit %.0f/s, "
              "nginx %.0f/s, fakellm direct %.0f/s | upstream calls during hit runs %d | errors "
              "%d/%d/%d/%d/%d" % (
                  rnd, r["load"], r["l1_paced" + s0]["p50_us"], r["l1_paced" + s0]["p99_us"],
                  r["l1_paced" + s0]["rps"], r["l2_paced" + s0]["p50_us"], r["l2_paced" + s0]["p99_us"],
                  r["l2_paced" + s0]["rps"], r["l2_hits"], r["nginx_paced" + s0]["p99_us"],
                  r["l1_max"]["rps"], r["nginx_max"]["rps"], r["fake_direct_max"]["rps"],
                  r["fake_during_hits"], r["l1_paced" + s0]["errors"], r["l2_paced" + s0]["errors"],
                  r["nginx_paced" + s0]["errors"], r["l1_max"]["errors"], r["nginx_max"]["errors"]),
              flush=True)
        if "l1_paced_poll" in r:
            print("[a/b round %d, idle CPUs polling] L1 paced p50 %d us p99 %d us | L2 paced p50 %d us "
                  "p99 %d us | nginx paced p99 %d us | fakellm direct p50 %d us p99 %d us" % (
                      rnd, r["l1_paced_poll"]["p50_us"], r["l1_paced_poll"]["p99_us"],
                      r["l2_paced_poll"]["p50_us"], r["l2_paced_poll"]["p99_us"],
                      r["nginx_paced_poll"]["p99_us"], r["fake_paced_poll"]["p50_us"],
                      r["fake_paced_poll"]["p99_us"]), flush=True)
    out["ab"] = rows
    for n in ("gate-l1", "gate-l2", "nginx", "redis", "fake-ab"):
        procs.stop(n)


def part_c(args, procs, out):
    fport = start_fakellm(procs, args.bin, "fake-c", "--answer-words", str(args.answer_words))
    res = {}
    for mode in ("deterministic", "off"):
        if mode == "off" and not args.mem_control:
            continue
        port, aport, p = start_gate(procs, args, "gate-mem-" + mode, fport,
                                    "{mode: %s, l1: {max_bytes: 1GiB}}" % mode)
        tag = "%s-%d" % (mode, os.getpid())
        warm = [chat_body("memory warm-up %s %08d" % (tag, i)) for i in range(2000)]
        asyncio.run(post_many(port, warm, 16))
        time.sleep(0.5)
        rss0 = rss_bytes(p.pid)
        b0 = metric_sum(metrics(aport), "llmgate_cache_bytes", tier="l1")
        bodies = [chat_body("memory entry %s %08d" % (tag, i)) for i in range(args.mem_entries)]
        t0 = time.monotonic()
        st = asyncio.run(post_many(port, bodies, 16))
        el = time.monotonic() - t0
        time.sleep(0.5)
        rss1 = rss_bytes(p.pid)
        b1 = metric_sum(metrics(aport), "llmgate_cache_bytes", tier="l1")
        # Still there? The first 200 entries again must be L1 hits (cache on).
        again = asyncio.run(post_many(port, bodies[:200], 4))
        res[mode] = {"n": st["n"], "bad": st["bad"], "answer_mean": st["bytes"] / st["n"],
                     "rss0": rss0, "rss1": rss1, "per_entry": (rss1 - rss0) / st["n"],
                     "gauge_per_entry": (b1 - b0) / st["n"], "cache": st["cache"],
                     "seconds": el, "rehits": again["cache"].get("hit-l1", 0)}
        print("[c %s] %d requests in %.1fs (non-200 %d, cache %s): RSS %.1f -> %.1f MiB, "
              "%.0f B/entry; answer %.0f B; llmgate_cache_bytes{l1} gauge %.0f B/entry; "
              "first 200 again: %d hit-l1" % (
                  mode, st["n"], el, st["bad"], st["cache"], rss0 / 2**20, rss1 / 2**20,
                  res[mode]["per_entry"], res[mode]["answer_mean"], res[mode]["gauge_per_entry"],
                  res[mode]["rehits"]),
              flush=True)
        procs.stop("gate-mem-" + mode)
    out["mem"] = res
    procs.stop("fake-c")


def part_d(args, procs, out):
    res = {}
    for conc in (1, 16):
        fport = start_fakellm(procs, args.bin, "fake-d")
        port, aport, _ = start_gate(procs, args, "gate-trace", fport, "{mode: deterministic}")
        rng = random.Random(42 + conc)
        n = 3000
        n_rep = int(round(n * 0.3))
        # Positions 1..n-1 that are repeats (position 0 is always new).
        rep_pos = set(rng.sample(range(1, n), n_rep))
        trace, uniques = [], []
        for i in range(n):
            if i in rep_pos:
                trace.append(rng.choice(uniques))
            else:
                text = "trace item %06d: summarise the order history" % len(uniques)
                uniques.append(text)
                trace.append(text)
        bodies = [chat_body(t) for t in trace]
        http(fport, "POST", "/_fakellm/reset", b"")
        m0 = metrics(aport)
        st = asyncio.run(post_many(port, bodies, conc))
        m1 = metrics(aport)
        up = json.loads(http(fport, "GET", "/_fakellm/stats")[2])["requests"]
        cost = metric_sum(m1, "llmgate_cost_usd_total") - metric_sum(m0, "llmgate_cost_usd_total")
        saved = (metric_sum(m1, "llmgate_cache_saved_usd_total")
                 - metric_sum(m0, "llmgate_cache_saved_usd_total"))
        r = {"requests": st["n"], "bad": st["bad"], "repeats": n_rep, "uniques": len(uniques),
             "upstream": up, "upstream_cut": 1 - up / n, "cost": cost, "saved": saved,
             "cost_cut": saved / (cost + saved) if cost + saved else float("nan"),
             "cache": st["cache"]}
        res[conc] = r
        print("[d concurrency %d] %d requests (%d repeats), non-200 %d, upstream %d (cut %.4f), "
              "cost $%.8f saved $%.8f (cut %.4f), cache %s" % (
                  conc, n, n_rep, st["bad"], up, r["upstream_cut"], cost, saved, r["cost_cut"],
                  st["cache"]), flush=True)
        procs.stop("gate-trace")
        procs.stop("fake-d")
    out["trace"] = res


def idle_modes(args):
    """Key suffixes of the paced runs: "" as the machine is, "_poll" with idle
    CPUs polling (IdlePolling)."""
    if args.idle == "halt":
        return [""]
    if not IdlePolling.available():
        if args.idle == "poll":
            raise SystemExit("--idle poll needs write access to %s" % IdlePolling.PATH)
        print("cache_bench: %s not writable: paced runs only as the machine is"
              % IdlePolling.PATH, flush=True)
        return [""]
    return ["_poll"] if args.idle == "poll" else ["", "_poll"]


def med(rows, key, field):
    return statistics.median(r[key][field] for r in rows)


def report(out):
    print()
    v = []
    if "ab" in out:
        rows = out["ab"]
        print("| measure | median of %d rounds | per round |" % len(rows))
        print("|---|---|---|")

        def line(label, key, field, fmt):
            vals = [r[key][field] for r in rows]
            print("| %s | %s | %s |" % (label, fmt % statistics.median(vals),
                                        ", ".join(fmt % x for x in vals)))

        modes = [(sfx, label) for sfx, label in (("", ""), ("_poll", " (idle CPUs polling)"))
                 if "l1_paced" + sfx in rows[0]]
        for sfx, idle in modes:
            line("L1 hit, paced%s: achieved req/s" % idle, "l1_paced" + sfx, "rps", "%.0f")
            line("L1 hit, paced%s: p50 µs" % idle, "l1_paced" + sfx, "p50_us", "%d")
            line("L1 hit, paced%s: p99 µs" % idle, "l1_paced" + sfx, "p99_us", "%d")
            line("L1 hit, paced%s: p99.9 µs" % idle, "l1_paced" + sfx, "p999_us", "%d")
            line("L2 hit, paced%s: achieved req/s" % idle, "l2_paced" + sfx, "rps", "%.0f")
            line("L2 hit, paced%s: p50 µs" % idle, "l2_paced" + sfx, "p50_us", "%d")
            line("L2 hit, paced%s: p99 µs" % idle, "l2_paced" + sfx, "p99_us", "%d")
            line("nginx → fakellm, paced%s: p50 µs" % idle, "nginx_paced" + sfx, "p50_us", "%d")
            line("nginx → fakellm, paced%s: p99 µs" % idle, "nginx_paced" + sfx, "p99_us", "%d")
            line("fakellm direct (the client's floor), paced%s: p50 µs" % idle,
                 "fake_paced" + sfx, "p50_us", "%d")
            line("fakellm direct (the client's floor), paced%s: p99 µs" % idle,
                 "fake_paced" + sfx, "p99_us", "%d")
        line("closed loop (-c32): L1 hit req/s", "l1_max", "rps", "%.0f")
        line("closed loop (-c32): nginx → fakellm req/s", "nginx_max", "rps", "%.0f")
        line("closed loop (-c32): fakellm direct req/s", "fake_direct_max", "rps", "%.0f")
        line("L1 hit: requests per llmgate CPU-second", "l1_max", "per_cpu_s", "%.0f")
        line("pass-through: requests per nginx CPU-second (fakellm not counted)", "nginx_max",
             "per_cpu_s", "%.0f")
        cratios = [r["l1_max"]["per_cpu_s"] / r["nginx_max"]["per_cpu_s"] for r in rows]
        print("| L1 hit / nginx, per CPU-second of the proxy | %.2fx | %s |" % (
            statistics.median(cratios), ", ".join("%.2fx" % x for x in cratios)))
        ratios = [r["l1_max"]["rps"] / r["nginx_max"]["rps"] for r in rows]
        print("| L1 hit / nginx pass-through | %.2fx | %s |" % (
            statistics.median(ratios), ", ".join("%.2fx" % x for x in ratios)))
        errs = sum(r[k + sfx]["errors"] for r in rows for sfx, _ in modes
                   for k in ("l1_paced", "l2_paced")) + sum(r["l1_max"]["errors"] for r in rows)
        up = sum(r["fake_during_hits"] for r in rows)
        l2_ok = all(r["l2_hits_ok"] for r in rows)
        print("| wrk errors on llmgate runs / upstream calls during hit runs | %d / %d | |"
              % (errs, up))
        for sfx, idle in modes:
            p99 = med(rows, "l1_paced" + sfx, "p99_us")
            floor = med(rows, "fake_paced" + sfx, "p99_us")
            v.append(("L1 hit p99 < 250 µs at ~1000 req/s%s" % idle,
                      "%d µs (client floor %d µs)" % (p99, floor), p99 < 250))
        v.append(("L1 hit throughput >= 1.5x nginx pass-through", "%.2fx" % statistics.median(ratios),
                  statistics.median(ratios) >= 1.5))
        for sfx, idle in modes:
            p99b = med(rows, "l2_paced" + sfx, "p99_us")
            v.append(("L2 hit p99 < 1 ms%s (every request an L2 hit: %s)" % (idle, l2_ok),
                      "%d µs" % p99b, p99b < 1000 and l2_ok))
        v.append(("hits never touch the upstream; no errors", "%d upstream, %d errors" % (up, errs),
                  up == 0 and errs == 0))
    if "mem" in out:
        m = out["mem"]["deterministic"]
        limit = 1.3 * m["answer_mean"] + 256
        print()
        print("| L1 memory | entries | mean answer B | RSS before -> after MiB | RSS growth B/entry | limit 1.3x+256 |")
        print("|---|---|---|---|---|---|")
        for mode, x in out["mem"].items():
            print("| cache %s | %d | %.0f | %.1f -> %.1f | %.0f | %.0f |" % (
                mode, x["n"], x["answer_mean"], x["rss0"] / 2**20, x["rss1"] / 2**20,
                x["per_entry"], limit))
        v.append(("L1 RSS per entry <= 1.3x answer + 256 B (%d entries, %d/200 re-hit)"
                  % (m["n"], m["rehits"]),
                  "%.0f B vs %.0f B" % (m["per_entry"], limit),
                  m["per_entry"] <= limit and m["rehits"] == 200))
    if "trace" in out:
        print()
        print("| trace (3000 req, 30 % repeats) | upstream calls | upstream cut | cost cut | cache headers |")
        print("|---|---|---|---|---|")
        for conc, x in out["trace"].items():
            print("| %d client(s) | %d | %.4f | %.4f | %s |" % (
                conc, x["upstream"], x["upstream_cut"], x["cost_cut"], x["cache"]))
            v.append(("trace, %d client(s): upstream and cost cut = 0.30" % conc,
                      "%.4f / %.4f" % (x["upstream_cut"], x["cost_cut"]),
                      abs(x["upstream_cut"] - 0.3) < 1e-9 and abs(x["cost_cut"] - 0.3) < 1e-6
                      and x["bad"] == 0))
    print()
    print("| target | result | verdict |")
    print("|---|---|---|")
    for t, r, ok in v:
        print("| %s | %s | %s |" % (t, r, "PASS" if ok else "FAIL"))
    return all(ok for *_, ok in v)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(REPO, "build-bench2", "bin"))
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--paced-seconds", type=int, default=8)
    ap.add_argument("--paced-client", choices=["paced_load", "wrk"], default="paced_load")
    ap.add_argument("--max-seconds", type=int, default=5)
    ap.add_argument("--mem-entries", type=int, default=100000)
    ap.add_argument("--answer-words", type=int, default=24,
                    help="(c): fakellm answer length (24 words = a ~674-byte answer)")
    ap.add_argument("--mem-control", action="store_true", help="also measure with cache off")
    ap.add_argument("--parts", default="ab,c,d")
    ap.add_argument("--idle", choices=["both", "halt", "poll"], default="both",
                    help="paced runs as the machine is (halt), with idle CPUs polling "
                         "(poll: PM QoS 0 on /dev/cpu_dma_latency), or both (default)")
    ap.add_argument("--json")
    args = ap.parse_args()
    out = {}
    wd = tempfile.mkdtemp(prefix="cache-bench-")
    procs = Procs(wd)
    try:
        parts = args.parts.split(",")
        if "ab" in parts:
            part_ab(args, procs, out)
        if "c" in parts:
            part_c(args, procs, out)
        if "d" in parts:
            part_d(args, procs, out)
    finally:
        procs.stop_all()
        shutil.rmtree(wd, ignore_errors=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1, default=str)
    return 0 if report(out) else 1


if __name__ == "__main__":
    sys.exit(main())
