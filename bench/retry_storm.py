#!/usr/bin/env python3
"""Issue 3's load test: a retry storm that must not multiply the load.

Provider A (a fakellm) answers 429 (Retry-After: 1) a quarter of the time and
503 another quarter (so it fails half the time), provider B (another fakellm)
is healthy. llmgate serves a route whose targets are [a-model, b-model];
retry.max_attempts 3, retry.budget_percent 20, retry.max_delay 8s. N clients
(default 200) run a closed loop for a bounded time.

Measured, per round:
  * client-visible errors (anything but a 200): target 0;
  * upstream requests (A + B, from each fakellm's /_fakellm/stats) per client
    request: target <= 1.2;
  * Retry-After honoured: A sits behind a tiny recording relay (this script in
    --relay mode) that timestamps every request llmgate sends to A and every
    answer A gives, with the client request's id (in the prompt). For every 429
    whose request llmgate retried on A, the gap from the 429 leaving the relay
    to the retry reaching the relay must be >= 1.0 s (the hint) and <= 1.5 s.
    The relay's timestamps bracket llmgate's own wait from outside (the 429
    reaches llmgate after it leaves the relay, the retry leaves llmgate before
    it reaches the relay), so a gap < 1.0 s is a real violation, and a gap
    > 1.5 s includes the relay's and llmgate's scheduling delay under load.
    A 1 s hint is below retry.max_delay (8 s), so llmgate waits it out *for
    that request* on the same target; it does not cool provider A down for
    other requests (only a hint above max_delay does, RESILIENCE.md R7). So
    "A gets no request for 1 s after a 429" is not the contract and is not
    measured; the per-request retry gap is.

The fault sequence of A is a seeded random draw queued with POST
/_fakellm/script (each chat request to A takes the next behaviour), so any
attempt, first or retry, fails with probability 1/2.

Variants (--variants): `default` = failover defaults (eject_after 5,
eject_for 30s); `noeject` = eject_after 1000 (outlier ejection effectively
off, so only the retry budget limits the extra load).

Standard library only. Usage:
  bench/retry_storm.py [--bin build-bench2/bin] [--clients 200] [--duration 20]
                       [--rounds 3] [--latency-ms 50] [--variants default,noeject]
"""

import argparse
import asyncio
import json
import os
import random
import re
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
ID_RE = re.compile(rb"storm-(\d+-\d+)")

# --------------------------------------------------------------------------
# Minimal asyncio HTTP/1.1 (keep-alive, Content-Length or chunked bodies)


async def read_message_head(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if line:
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip()
    return head, lines[0], headers


async def read_body(reader, headers):
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raw = b""
        out = b""
        while True:
            line = await reader.readuntil(b"\r\n")
            raw += line
            size = int(line.split(b";")[0].strip(), 16)
            if size == 0:
                while True:
                    t = await reader.readuntil(b"\r\n")
                    raw += t
                    if t == b"\r\n":
                        return out, raw
            chunk = await reader.readexactly(size + 2)
            raw += chunk
            out += chunk[:-2]
    n = int(headers.get("content-length", "0"))
    body = await reader.readexactly(n) if n else b""
    return body, body


# --------------------------------------------------------------------------
# Relay mode: records every request to A and A's answer.


async def relay_main(listen_port_file, upstream_port):
    records = []  # (id, t_in, t_out, status, retry_after)

    async def handle(reader, writer):
        up_r = up_w = None
        try:
            while True:
                try:
                    head, first, headers = await read_message_head(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return
                t_in = time.monotonic()
                _, body = await read_body(reader, headers)
                if first.startswith("GET /_relay/dump"):
                    data = json.dumps(records).encode()
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 b"Content-Length: %d\r\n\r\n" % len(data) + data)
                    await writer.drain()
                    continue
                if first.startswith("POST /_relay/clear"):
                    records.clear()
                    writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                    await writer.drain()
                    continue
                if up_w is None:
                    up_r, up_w = await asyncio.open_connection(HOST, upstream_port)
                up_w.write(head + body)
                await up_w.drain()
                rhead, rfirst, rheaders = await read_message_head(up_r)
                _, rraw = await read_body(up_r, rheaders)
                t_out = time.monotonic()
                writer.write(rhead + rraw)
                await writer.drain()
                m = ID_RE.search(body)
                status = int(rfirst.split()[1])
                if first.startswith("POST") and "chat/completions" in first:
                    records.append((m.group(1).decode() if m else None, t_in, t_out, status,
                                    rheaders.get("retry-after")))
                if "close" in rheaders.get("connection", "").lower():
                    up_w.close()
                    up_r = up_w = None
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            if up_w is not None:
                up_w.close()

    server = await asyncio.start_server(handle, HOST, 0, backlog=1024)
    port = server.sockets[0].getsockname()[1]
    with open(listen_port_file + ".tmp", "w") as f:
        f.write(str(port))
    os.rename(listen_port_file + ".tmp", listen_port_file)
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    server.close()


# --------------------------------------------------------------------------
# Process helpers


def http(port, method, path, body=None, timeout=10):
    req = urllib.request.Request("http://%s:%d%s" % (HOST, port, path), data=body, method=method)
    if body is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class Procs:
    def __init__(self, workdir):
        self.workdir = workdir
        self.procs = []

    def start(self, name, argv, env=None):
        out = open(os.path.join(self.workdir, name + ".out"), "wb")
        err = open(os.path.join(self.workdir, name + ".err"), "wb")
        e = dict(os.environ)
        e.update(env or {})
        p = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=e)
        out.close()
        err.close()
        self.procs.append((name, p))
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

    def stop_all(self):
        for name, p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(5)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait(5)
        self.procs.clear()


def start_fakellm(procs, bindir, name, latency_ms):
    procs.start(name, [os.path.join(bindir, "fakellm"), "--listen", HOST + ":0",
                       "--latency-ms", str(latency_ms)])
    pat = re.compile(r"fakellm listening on 127\.0\.0\.1:(\d+)")
    return int(wait_for(lambda: (pat.search(procs.log(name)) or [None, None])[1], 10,
                        name + " port"))


CONFIG = """\
server: {listen: "127.0.0.1:@PORT@", admin_listen: "127.0.0.1:@APORT@", workers: @WORKERS@,
         idle_timeout: 60s}
logging: {level: warn, access_log: "off"}
retry: {max_attempts: 3, base_delay: 100ms, max_delay: 8s, budget_percent: 20}
timeouts: {total: 60s}
failover: {eject_after: @EJECT_AFTER@, eject_for: 30s}
cache: {mode: "off"}
providers:
  - {name: prov-a, kind: openai, base_url: "http://127.0.0.1:@A@/v1", api_key_env: FAKE_KEY,
     allow_private_network: true}
  - {name: prov-b, kind: openai, base_url: "http://127.0.0.1:@B@/v1", api_key_env: FAKE_KEY,
     allow_private_network: true}
models:
  - {name: a-model, provider: prov-a, upstream_model: gpt-4o-mini, context_window: 128000}
  - {name: b-model, provider: prov-b, upstream_model: gpt-4o-mini, context_window: 128000}
routes:
  - {name: storm, default: [a-model, b-model]}
"""


# --------------------------------------------------------------------------
# Load


async def client_loop(cid, port, deadline, res):
    reader = writer = None
    n = 0
    while time.monotonic() < deadline:
        n += 1
        body = json.dumps({"model": "storm", "max_tokens": 32,
                           "messages": [{"role": "user",
                                         "content": "storm-%d-%d: say something" % (cid, n)}]}
                          ).encode()
        req = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
        t0 = time.monotonic()
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(req)
            await writer.drain()
            _, first, headers = await asyncio.wait_for(read_message_head(reader), 90)
            rbody, _ = await read_body(reader, headers)
            status = int(first.split()[1])
        except Exception as exc:  # noqa: BLE001 - counted as a client-visible error
            res["errors"].append("exception %r" % exc)
            res["latencies"].append(time.monotonic() - t0)
            if writer is not None:
                writer.close()
            reader = writer = None
            continue
        res["latencies"].append(time.monotonic() - t0)
        res["count"] += 1
        att = headers.get("x-llmgate-attempts", "?")
        prov = headers.get("x-llmgate-provider", "?")
        res["attempts"][att] = res["attempts"].get(att, 0) + 1
        res["providers"][prov] = res["providers"].get(prov, 0) + 1
        if status != 200:
            res["errors"].append("%d %s" % (status, rbody[:300].decode("utf-8", "replace")))
        if "close" in headers.get("connection", "").lower():
            writer.close()
            reader = writer = None
    if writer is not None:
        writer.close()


async def run_load(port, clients, duration):
    res = {"count": 0, "errors": [], "latencies": [], "attempts": {}, "providers": {}}
    t0 = time.monotonic()
    deadline = t0 + duration
    await asyncio.gather(*(client_loop(i, port, deadline, res) for i in range(clients)))
    res["elapsed"] = time.monotonic() - t0
    return res


def pct(xs, p):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100.0 * (len(xs) - 1))))]


def analyse_retry_after(records):
    """Gaps between a 429 (Retry-After 1) from A and the next A request of the same id."""
    by_id = {}
    for rid, t_in, t_out, status, ra in records:
        if rid is not None:
            by_id.setdefault(rid, []).append((t_in, t_out, status, ra))
    gaps429, gaps503, not_retried429 = [], [], 0
    for seq in by_id.values():
        seq.sort()
        for i, (t_in, t_out, status, ra) in enumerate(seq):
            if status == 429:
                if i + 1 < len(seq):
                    gaps429.append(seq[i + 1][0] - t_out)
                else:
                    not_retried429 += 1
            elif status == 503 and i + 1 < len(seq):
                gaps503.append(seq[i + 1][0] - t_out)
    return gaps429, gaps503, not_retried429


def one_round(args, variant, rnd, workdir):
    procs = Procs(workdir)
    try:
        a_port = start_fakellm(procs, args.bin, "fake-a", args.latency_ms)
        b_port = start_fakellm(procs, args.bin, "fake-b", args.latency_ms)
        # A's faults: 1/4 429 with Retry-After 1, 1/4 503, 1/2 normal; seeded.
        rng = random.Random(1000 * rnd + 7)
        behaviours = []
        for _ in range(args.queue):
            x = rng.random()
            behaviours.append({"status": 429, "retry_after": "1"} if x < 0.25 else
                              {"status": 503} if x < 0.5 else {})
        for i in range(0, len(behaviours), 5000):
            st, b = http(a_port, "POST", "/_fakellm/script",
                         json.dumps({"behaviours": behaviours[i:i + 5000]}).encode())
            if st != 200:
                raise SystemExit("queueing behaviours failed: %d %r" % (st, b[:200]))
        portfile = os.path.join(workdir, "relay.port")
        procs.start("relay", [sys.executable, os.path.abspath(__file__), "--relay", portfile,
                              str(a_port)])
        relay_port = int(wait_for(lambda: os.path.exists(portfile) and open(portfile).read(), 10,
                                  "relay port"))
        gport, aport = free_port(), free_port()
        cfg = (CONFIG.replace("@PORT@", str(gport)).replace("@APORT@", str(aport))
               .replace("@A@", str(relay_port)).replace("@B@", str(b_port))
               .replace("@WORKERS@", str(args.workers))
               .replace("@EJECT_AFTER@", "1000" if variant == "noeject" else "5"))
        cfg_path = os.path.join(workdir, "llmgate.yaml")
        with open(cfg_path, "w") as f:
            f.write(cfg)
        gate = procs.start("llmgate", [os.path.join(args.bin, "llmgate"), "--config", cfg_path],
                           env={"FAKE_KEY": "sk-bench-storm"})
        wait_for(lambda: http(aport, "GET", "/readyz", timeout=2)[0] == 200, 15, "llmgate /readyz")
        for p in (a_port, b_port):
            http(p, "POST", "/_fakellm/reset", b"")
        http(relay_port, "POST", "/_relay/clear", b"")

        res = asyncio.run(run_load(gport, args.clients, args.duration))

        a_req = json.loads(http(a_port, "GET", "/_fakellm/stats")[1])["requests"]
        b_req = json.loads(http(b_port, "GET", "/_fakellm/stats")[1])["requests"]
        left = json.loads(http(a_port, "GET", "/_fakellm/script")[1])["queued"]
        records = json.loads(http(relay_port, "GET", "/_relay/dump", timeout=30)[1])
        metrics = http(aport, "GET", "/metrics")[1].decode()
        alive = gate.poll() is None
        crash = [m for m in ("Segmentation fault", "terminate called", "Aborted", "runtime error")
                 if m in procs.log("llmgate")]
    finally:
        procs.stop_all()
    total = res["count"] + sum(1 for e in res["errors"] if e.startswith("exception"))
    gaps429, gaps503, not_retried429 = analyse_retry_after(records)
    statuses = {}
    for r in records:
        statuses[r[3]] = statuses.get(r[3], 0) + 1
    return {
        "variant": variant, "round": rnd, "requests": total, "elapsed": res["elapsed"],
        "rate": total / res["elapsed"], "errors": len(res["errors"]),
        "error_samples": res["errors"][:5], "a_requests": a_req, "b_requests": b_req,
        "ratio": (a_req + b_req) / total if total else float("nan"),
        "p50": pct(res["latencies"], 50), "p99": pct(res["latencies"], 99),
        "attempts": res["attempts"], "providers": res["providers"],
        "a_statuses": statuses, "queue_left": left,
        "gaps429": gaps429, "gaps503": gaps503, "not_retried429": not_retried429,
        "retries": metric_sum(metrics, "llmgate_retries_total"),
        "budget_exhausted": metric_sum(metrics, "llmgate_retry_budget_exhausted_total"),
        "ejections": metric_sum(metrics, "llmgate_ejections_total"),
        "failovers": metric_sum(metrics, "llmgate_failovers_total"),
        "alive": alive, "crash": crash,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--relay", nargs=2, metavar=("PORTFILE", "UPSTREAM_PORT"), help=argparse.SUPPRESS)
    ap.add_argument("--bin", default=os.path.join(REPO, "build-bench2", "bin"))
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--duration", type=float, default=20.0)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--latency-ms", type=int, default=50)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--queue", type=int, default=60000, help="A's scripted behaviours")
    ap.add_argument("--variants", default="default,noeject")
    ap.add_argument("--json", help="write all rounds' results here")
    args = ap.parse_args()
    if args.relay:
        asyncio.run(relay_main(args.relay[0], int(args.relay[1])))
        return 0

    results = []
    for variant in args.variants.split(","):
        for rnd in range(1, args.rounds + 1):
            with tempfile.TemporaryDirectory(prefix="storm-") as wd:
                r = one_round(args, variant, rnd, wd)
            results.append(r)
            g = r["gaps429"]
            print("[%s round %d] %d requests in %.1fs (%.0f/s), errors %d, A %d + B %d upstream "
                  "= %.3fx, 429->retry gaps n=%d min %.3fs max %.3fs, budget-exhausted %d, "
                  "ejections %d, queue left %d, attempts %s, providers %s, A statuses %s"
                  % (variant, rnd, r["requests"], r["elapsed"], r["rate"], r["errors"],
                     r["a_requests"], r["b_requests"], r["ratio"], len(g),
                     min(g) if g else float("nan"), max(g) if g else float("nan"),
                     r["budget_exhausted"], r["ejections"], r["queue_left"],
                     r["attempts"], r["providers"], r["a_statuses"]), flush=True)
            for s in r["error_samples"]:
                print("    error sample: " + s[:240], flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)

    print()
    print("| variant | rounds | client req/s (median) | client errors (sum) | upstream / offered "
          "(median, max) | 429→retry gap min / p50 / max (all rounds) | 503→retry gap p50 | "
          "budget exhausted | ejections | client p50 / p99 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    verdicts = []
    for variant in args.variants.split(","):
        rs = [r for r in results if r["variant"] == variant]
        g = [x for r in rs for x in r["gaps429"]]
        g5 = [x for r in rs for x in r["gaps503"]]
        errors = sum(r["errors"] for r in rs)
        ratios = [r["ratio"] for r in rs]
        print("| %s | %d | %.0f | %d | %.3f, %.3f | %s | %s | %s | %s | %.0f ms / %.0f ms |" % (
            variant, len(rs), statistics.median(r["rate"] for r in rs), errors,
            statistics.median(ratios), max(ratios),
            "%.3f / %.3f / %.3f s (n=%d)" % (min(g), pct(g, 50), max(g), len(g)) if g else "n/a",
            "%.0f ms" % (1000 * pct(g5, 50)) if g5 else "n/a",
            "/".join("%d" % r["budget_exhausted"] for r in rs),
            "/".join("%d" % r["ejections"] for r in rs),
            1000 * statistics.median(r["p50"] for r in rs),
            1000 * statistics.median(r["p99"] for r in rs)))
        alive = all(r["alive"] and not r["crash"] for r in rs)
        verdicts.append((variant, "zero client-visible errors", errors == 0, "%d" % errors))
        verdicts.append((variant, "upstream <= 1.2x offered (every round)", max(ratios) <= 1.2,
                         "max %.3f" % max(ratios)))
        verdicts.append((variant, "no retry on A before Retry-After (1 s)",
                         bool(g) and min(g) >= 1.0, "min gap %.3f s (n=%d)" % (min(g), len(g))
                         if g else "no sample"))
        verdicts.append((variant, "no retry later than 1.5x Retry-After",
                         bool(g) and max(g) <= 1.5, "max gap %.3f s" % max(g) if g else "no sample"))
        verdicts.append((variant, "llmgate alive, no crash marker", alive, str(alive)))
    print()
    print("| variant | target | result | verdict |")
    print("|---|---|---|---|")
    for variant, target, ok, detail in verdicts:
        print("| %s | %s | %s | %s |" % (variant, target, detail, "PASS" if ok else "FAIL"))
    return 0 if all(ok for *_, ok, _ in verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
