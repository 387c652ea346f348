#!/usr/bin/env python3
"""End to end with a real Prometheus (Debian package `prometheus`).

Starts fakellm, llmgate (access log to a file) and Prometheus on free loopback
ports, Prometheus scraping llmgate's admin /metrics every second and loading
deploy/prometheus/alerts.yaml as its rule file. Sends successes (plain and
streamed), unknown-model errors (404) and upstream failures (fakellm
`FAKELLM{"status":500}` -> 502, or 503 once the target is ejected), waits for the scrapes, then:

- runs every PromQL expression of deploy/grafana/llmgate-dashboard.json and of
  the alert rules through Prometheus' HTTP API (/api/v1/query): each parses;
- checks values the traffic implies: sum(llmgate_requests_total) equals what
  was sent, per status class too, and the duration histogram's count;
- checks Prometheus evaluated every alert rule without error;
- stops llmgate and checks the access log has one JSON line per request.

Standard library only; processes are stopped by PID. Usage:
  LLMGATE_BIN_DIR=<build>/bin python3 tests/e2e/prometheus_test.py
"""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import harness  # noqa: E402

DASHBOARD = os.path.join(REPO, "deploy", "grafana", "llmgate-dashboard.json")
ALERTS = os.path.join(REPO, "deploy", "prometheus", "alerts.yaml")
PROMETHEUS = os.environ.get("PROMETHEUS_BIN", "/usr/bin/prometheus")

# Grafana variables, replaced as Grafana would before the query reaches Prometheus.
GRAFANA_VARS = {"$__rate_interval": "1m", "$__interval": "15s", "$model": ".*"}


def dashboard_exprs():
    """(where, expr) for every panel target, annotation and query variable."""
    with open(DASHBOARD) as f:
        dash = json.load(f)
    out = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                if t.get("expr"):
                    out.append(("panel %r %s" % (p.get("title"), t.get("refId")), t["expr"]))
            walk(p.get("panels", []))

    walk(dash.get("panels", []))
    for a in dash.get("annotations", {}).get("list", []):
        if a.get("expr"):
            out.append(("annotation %r" % a.get("name"), a["expr"]))
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v.get("query")
        q = q.get("query") if isinstance(q, dict) else q
        # label_values(metric, label) is Grafana's; the equivalent PromQL must parse too.
        m = re.fullmatch(r"\s*label_values\((.+),\s*(\w+)\)\s*", q or "")
        out.append(("variable %r" % v.get("name"),
                    "count by (%s) (%s)" % (m.group(2), m.group(1)) if m else q))
    return out


def alert_exprs():
    """(alert name, expr) from alerts.yaml; `expr:` is one line or a `|` block."""
    out = []
    with open(ALERTS) as f:
        lines = f.read().splitlines()
    name = None
    i = 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"\s*- (?:alert|record): (\S+)", line)
        if m:
            name = m.group(1)
        m = re.match(r"(\s*)expr:\s*(.*)$", line)
        if m:
            indent, rest = len(m.group(1)), m.group(2).strip()
            if rest in ("|", ">", "|-", ">-"):
                block = []
                i += 1
                while i < len(lines) and (not lines[i].strip() or
                                          len(lines[i]) - len(lines[i].lstrip()) > indent):
                    block.append(lines[i].strip())
                    i += 1
                out.append((name, " ".join(b for b in block if b)))
                continue
            out.append((name, rest))
        i += 1
    return out


def substitute(expr):
    for k, v in sorted(GRAFANA_VARS.items(), key=lambda kv: -len(kv[0])):
        expr = expr.replace(k, v)
    return expr


class Prometheus:
    def __init__(self, scrape_port):
        self.dir = tempfile.mkdtemp(prefix="llmgate-prom-")
        self.port = harness.free_port()
        self.config = os.path.join(self.dir, "prometheus.yml")
        with open(self.config, "w") as f:
            f.write("global: {scrape_interval: 1s, evaluation_interval: 1s, scrape_timeout: 1s}\n"
                    "rule_files: [%s]\n"
                    "scrape_configs:\n"
                    "  - job_name: llmgate\n"
                    "    static_configs: [{targets: ['127.0.0.1:%d']}]\n"
                    % (json.dumps(ALERTS), scrape_port))
        self.log = os.path.join(self.dir, "prometheus.log")
        self.proc = None

    def start(self):
        if not os.access(PROMETHEUS, os.X_OK):
            raise AssertionError("%s not found: install the Debian package `prometheus` "
                                 "(scripts/install-deps)" % PROMETHEUS)
        argv = [PROMETHEUS, "--config.file=" + self.config,
                "--storage.tsdb.path=" + os.path.join(self.dir, "data"),
                "--web.listen-address=127.0.0.1:%d" % self.port, "--log.level=warn"]
        self.proc = harness._start(argv, dict(os.environ), self.log + ".out", self.log)
        harness.wait_until(self._ready, 20, "Prometheus /-/ready on 127.0.0.1:%d" % self.port)
        return self

    def _ready(self):
        if self.proc.poll() is not None:
            raise AssertionError("prometheus exited with %s: %s" % (
                self.proc.returncode, harness._tail(harness._read_text(self.log))))
        with urllib.request.urlopen("http://127.0.0.1:%d/-/ready" % self.port, timeout=2) as r:
            return r.status == 200

    def api(self, path, **params):
        url = "http://127.0.0.1:%d/api/v1/%s" % (self.port, path)
        if params:
            url += "?" + urllib.parse.urlencode(params)
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:  # 400 on a parse error: the body says why
            return json.load(e)

    def query(self, expr):
        return self.api("query", query=expr)

    def scalar(self, expr):
        """The single value of an instant vector with one series, or None if empty."""
        res = self.query(expr)
        if res.get("status") != "success":
            raise AssertionError("%s: %s" % (expr, res))
        data = res["data"]["result"]
        return float(data[0]["value"][1]) if data else None

    def stop(self):
        if self.proc is not None:
            harness._stop(self.proc)
        shutil.rmtree(self.dir, ignore_errors=True)


class PrometheusEndToEnd(unittest.TestCase):
    N_OK = 12
    N_STREAM = 4
    N_UNKNOWN_MODEL = 3
    N_UPSTREAM_500 = 3
    N_CACHE = 4
    N_FAILOVER = 2

    def test_dashboard_and_alerts_against_real_prometheus(self):
        fake = harness.FakeLLM().start()
        self.addCleanup(fake.stop)
        access_log = os.path.join(tempfile.mkdtemp(prefix="llmgate-accesslog-"), "access.log")
        self.addCleanup(shutil.rmtree, os.path.dirname(access_log), True)
        # A second model whose provider refuses connections and falls back to
        # gpt-4o-mini: the failover in the traffic below.
        config = harness.DEFAULT_CONFIG.replace(
            "models:\n",
            "  - {name: down, kind: openai, base_url: \"http://127.0.0.1:@DEADPORT@/v1\",\n"
            "     allow_private_network: true}\n"
            "models:\n"
            "  - {name: primary, provider: down, upstream_model: gpt-4o-mini, context_window: 128000,\n"
            "     fallbacks: [gpt-4o-mini], price_per_mtok: {input: 0.15, output: 0.6}}\n")
        config += "logging: {access_log: %s}\n" % json.dumps(access_log)
        gate = harness.Llmgate(template=config, fake=fake).start()
        self.addCleanup(lambda: gate.alive() and gate.stop(check=False))
        prom = Prometheus(gate.admin_port).start()
        self.addCleanup(prom.stop)

        # --- traffic -------------------------------------------------------------
        statuses = []
        for i in range(self.N_OK):
            statuses.append(gate.chat("hello %d" % i).status)
        for i in range(self.N_STREAM):
            statuses.append(gate.chat("stream %d" % i, stream=True).status)
        for i in range(self.N_CACHE):  # one miss, then hits
            r = gate.chat("cache me", extra={"temperature": 0})
            self.assertEqual(r.status, 200, r.body[:300])
            statuses.append(r.status)
        for i in range(self.N_FAILOVER):
            r = gate.chat("fail over %d" % i, model="primary")
            self.assertEqual(r.status, 200, r.body[:300])
            self.assertEqual(r.header("x-llmgate-model"), "gpt-4o-mini")
            statuses.append(r.status)
        for i in range(self.N_UNKNOWN_MODEL):
            r = gate.chat("x", model="no-such-model-%d" % i)
            self.assertEqual(r.status, 404, r.body[:300])
            statuses.append(r.status)
        for i in range(self.N_UPSTREAM_500):
            # 502 after retries; once outlier detection ejects the only target, 503.
            r = gate.chat('fail %d FAKELLM{"status":500}' % i)
            self.assertIn(r.status, (502, 503), r.body[:300])
            statuses.append(r.status)
        self.assertEqual(statuses[:self.N_OK + self.N_STREAM], [200] * (self.N_OK + self.N_STREAM))
        total = len(statuses)
        by_class = {}
        for s in statuses:
            by_class["%dxx" % (s // 100)] = by_class.get("%dxx" % (s // 100), 0) + 1

        # --- scrapes -------------------------------------------------------------
        harness.wait_until(lambda: prom.scalar("sum(llmgate_requests_total)") == total, 20,
                           "Prometheus to scrape sum(llmgate_requests_total) == %d" % total,
                           interval=0.5)
        # A few more scrapes so that rate() over 1m has at least two samples.
        time.sleep(2.5)

        # --- every expression parses --------------------------------------------
        exprs = dashboard_exprs() + alert_exprs()
        self.assertGreaterEqual(len(dashboard_exprs()), 30)
        self.assertGreaterEqual(len(alert_exprs()), 8)
        failures = []
        results = {}
        for where, expr in exprs:
            res = prom.query(substitute(expr))
            if res.get("status") != "success":
                failures.append("%s: %s -> %s" % (where, expr, res.get("error", res)))
            else:
                results[where] = res["data"]["result"]
        self.assertEqual(failures, [], "\n".join(failures))

        # --- values the traffic implies -----------------------------------------
        self.assertEqual(prom.scalar("sum(llmgate_requests_total)"), total)
        for cls, n in by_class.items():
            self.assertEqual(prom.scalar('sum(llmgate_requests_total{code="%s"})' % cls), n, cls)
        self.assertEqual(prom.scalar("sum(llmgate_request_duration_seconds_count)"), total)
        self.assertEqual(prom.scalar('sum(llmgate_requests_total{model="none",code="4xx"})'),
                         self.N_UNKNOWN_MODEL)
        self.assertEqual(
            prom.scalar('sum(llmgate_requests_total{model="gpt-4o-mini",provider="fake",code="2xx"})'),
            self.N_OK + self.N_STREAM + self.N_CACHE + self.N_FAILOVER)
        self.assertEqual(prom.scalar('sum(llmgate_requests_total{cache="hit-l1"})'), self.N_CACHE - 1)
        self.assertGreater(prom.scalar("sum(llmgate_cache_saved_usd_total)") or 0, 0)
        self.assertEqual(prom.scalar('sum(llmgate_failovers_total{from="primary",to="gpt-4o-mini"})'),
                         self.N_FAILOVER)
        self.assertGreater(prom.scalar('sum(llmgate_tokens_total{kind="completion"})') or 0, 0)
        self.assertGreater(prom.scalar('sum(llmgate_cost_usd_total)') or 0, 0)
        self.assertGreaterEqual(
            prom.scalar('sum(llmgate_upstream_attempts_total{outcome="success"})') or 0,
            self.N_OK + self.N_STREAM)
        self.assertGreaterEqual(prom.scalar("sum(llmgate_time_to_first_token_seconds_count)") or 0,
                                self.N_STREAM)
        self.assertEqual(prom.scalar("max(llmgate_route_version)"), 1)
        # Panels the traffic feeds return data.
        for where in ("panel 'Requests/s by route and status class' A",
                      "panel 'Request duration p50 / p95 / p99 by model' B",
                      "panel 'Tokens/s by model and kind' A",
                      "panel 'Cost per hour by model (USD)' A",
                      "variable 'model'"):
            self.assertIn(where, results)
            self.assertTrue(results[where], "%s returned no data" % where)
        # Bounded series: nothing per request reaches the labels.
        series = prom.query('count({__name__=~"llmgate_.+"})')["data"]["result"]
        self.assertLess(float(series[0]["value"][1]), 400)

        # --- the alert rules load and evaluate ----------------------------------
        def evaluated():
            groups = prom.api("rules")["data"]["groups"]
            rules = [r for g in groups for r in g["rules"]]
            return rules if rules and all(r.get("lastEvaluation", "").startswith("2") and
                                          not r["lastEvaluation"].startswith("0001")
                                          for r in rules) else None

        rules = harness.wait_until(evaluated, 15, "Prometheus to evaluate every alert rule",
                                   interval=0.5)
        self.assertEqual(len(rules), len(alert_exprs()))
        bad = ["%s: %s" % (r["name"], r.get("lastError")) for r in rules if r["health"] != "ok"]
        self.assertEqual(bad, [])

        # --- the access log: one JSON line per request, flushed on exit ---------
        gate.stop()
        with open(access_log) as f:
            lines = f.read().splitlines()
        self.assertEqual(len(lines), total)
        entries = [json.loads(line) for line in lines]
        self.assertEqual(sorted(e["status"] for e in entries), sorted(statuses))
        for e in entries:
            for key in ("time", "request_id", "tenant", "route", "model", "provider", "status",
                        "error_code", "attempts", "cache", "prompt_tokens", "completion_tokens",
                        "cost_usd", "duration_ms", "ttft_ms", "routes_version"):
                self.assertIn(key, e)
            self.assertRegex(e["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        text = "\n".join(lines)
        self.assertNotIn(gate.provider_key, text)
        self.assertNotIn("hello 1", text)  # no prompt text (R74)


if __name__ == "__main__":
    unittest.main(verbosity=2)
