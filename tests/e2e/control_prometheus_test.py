#!/usr/bin/env python3
"""llmgate-control with `metrics_source: {kind: prometheus}` against a real
Prometheus (Debian package `prometheus`) scraping an llmgate under load.

fakellm, llmgate (no control_plane: the numbers must come from Prometheus),
Prometheus scraping llmgate's /metrics every second, and llmgate-control
polling Prometheus every second with a latency policy on model-a. Slow
requests to model-a (a fakellm latency directive), fast ones to model-b:
`llmgatectl targets` shows the attempt counts Prometheus holds and a model-a
p95 close to Prometheus' own histogram_quantile, and the policy publishes a
shift of model-a to model-b.

Standard library only; processes are stopped by PID. Usage:
  LLMGATE_BIN_DIR=<build>/bin python3 tests/e2e/control_prometheus_test.py
"""

import concurrent.futures
import os
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
sys.path.insert(0, HERE)

import harness  # noqa: E402
from prometheus_test import Prometheus  # noqa: E402
from control_harness import ControlPlane  # noqa: E402
import test_control_telemetry  # noqa: E402
from test_control_telemetry import POLICY, ROUTES, SLOW, seconds  # noqa: E402

# The telemetry test's sidecar, without `control_plane:`: here the control
# plane reads llmgate's metrics from Prometheus instead of its reports.
PROXY = test_control_telemetry.PROXY.split("control_plane:")[0]


class ControlPrometheusEndToEnd(unittest.TestCase):
    def test_policy_from_prometheus_metrics(self):
        fake = harness.FakeLLM().start()
        self.addCleanup(fake.stop)
        gate = harness.Llmgate(PROXY, fake=fake).start()
        self.addCleanup(gate.stop)
        prom = Prometheus(gate.admin_port).start()
        self.addCleanup(prom.stop)
        control = ControlPlane(
            ROUTES, evaluate_every="1s",
            extra='metrics_source: {kind: prometheus, url: "http://127.0.0.1:%d"}\n%s' % (
                prom.port, POLICY))
        control.start()
        self.addCleanup(control.stop)
        # Prometheus has scraped llmgate and the control plane has its baseline.
        harness.wait_until(lambda: prom.scalar('up{job="llmgate"}') == 1, 20,
                           "Prometheus to scrape llmgate")
        time.sleep(2.5)

        def chat(model, content):
            resp = gate.chat(content, model=model, timeout=15)
            self.assertEqual(resp.status, 200, resp.body[:300])

        with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
            list(pool.map(lambda _: chat("model-a", "slow " + SLOW), range(12)))
            list(pool.map(lambda _: chat("model-b", "fast"), range(6)))

        def counted():
            a, b = control.target("model-a"), control.target("model-b")
            if a and b and int(a.get("samples", 0)) >= 12 and int(b.get("samples", 0)) >= 6:
                return a, b
            return None

        a, b = harness.wait_until(counted, 20, "targets to show the attempts Prometheus holds")
        self.assertEqual(int(a["samples"]), 12)
        self.assertEqual(int(b["samples"]), 6)
        p95 = seconds(a["latency_p95"])
        expected = prom.scalar('histogram_quantile(0.95, sum by (le, model) '
                               '(rate(llmgate_request_duration_seconds_bucket{model="model-a"}[5m])))')
        self.assertIsNotNone(expected)
        self.assertGreater(p95, 0.25)
        self.assertAlmostEqual(p95, expected, delta=0.1 * expected)
        self.assertLess(seconds(b["latency_p95"]), 0.25)
        prompt = prom.scalar('sum(llmgate_tokens_total{model="model-a",kind="prompt"})')
        self.assertGreater(prompt, 0)
        self.assertEqual(int(a.get("prompt_tokens", 0)), int(prompt))

        def shifted():
            table = control.ctl("routes")
            snapshot = table.get("snapshot", table)
            for o in snapshot.get("overrides", []):
                if o.get("subject") == "model-a" and o.get("shift", {}).get("to") == "model-b":
                    return o
            return None

        override = harness.wait_until(shifted, 10, "a policy shift of model-a to model-b")
        self.assertEqual(override.get("origin"), "ORIGIN_POLICY")
        self.assertNotIn("metrics_source prometheus:", control.logs())  # no poll failed


if __name__ == "__main__":
    unittest.main()
