"""Proxy -> control plane telemetry (issue 7): a real llmgate-control with a
latency policy, fakellm, and llmgate with `control_plane:` and a short
report_interval.

- Requests to model-a are slow (a fakellm latency directive), model-b fast:
  `llmgatectl --json targets` shows model-a's fleet p95 and counts from the
  proxy's reports, and the policy engine publishes a `shift` override of
  model-a to model-b (`llmgatectl --json routes`). Whether traffic moves is
  the route subscriber's business, not tested here.
- R34: with the control plane SIGSTOPped, llmgate requests are as fast as
  before; after SIGCONT the reports reach it again.
"""

import concurrent.futures
import os
import signal
import statistics
import time
import unittest

from control_harness import NODE_TOKEN, ControlPlane
from harness import FakeLLM, Llmgate, wait_until

ROUTES = """\
models:
  - {name: model-a, provider: fake}
  - {name: model-b, provider: fake}
routes:
  - {name: auto, default: [model-a, model-b]}
"""

POLICY = """\
policies:
  - {model: model-a, p95_latency_max: 250ms, min_samples: 8, shift_to: model-b,
     shift_for: 5m, probe_percent: 0}
"""

PROXY = """\
server: {listen: "127.0.0.1:@PORT@", admin_listen: "127.0.0.1:@APORT@", workers: 2,
         max_request_bytes: 64KiB, request_header_timeout: 2s, idle_timeout: 3s, drain_timeout: 1s}
providers:
  - {name: fake, kind: openai, base_url: "http://127.0.0.1:@FPORT@/v1", api_key_env: FAKE_KEY,
     allow_private_network: true,
     timeouts: {connect: 1s, first_byte: 5s, stream_idle: 5s, total: 10s}}
models:
  - {name: model-a, provider: fake, upstream_model: gpt-4o-mini, context_window: 128000,
     price_per_mtok: {input: 1, output: 2}}
  - {name: model-b, provider: fake, upstream_model: gpt-4o-mini, context_window: 128000,
     price_per_mtok: {input: 1, output: 2}}
routes:
  - {name: auto, default: [model-a, model-b]}
control_plane:
  address: "127.0.0.1:%(cport)d"
  node_id_env: IT_NODE_ID
  token_env: IT_NODE_TOKEN
  report_interval: 300ms
"""

SLOW = 'FAKELLM{"latency_ms": 400}'


def seconds(duration):
    """A protobuf JSON Duration ("0.401s") in seconds."""
    return float(duration.rstrip("s")) if duration else 0.0


class ControlTelemetryTest(unittest.TestCase):
    def setUp(self):
        self.control = ControlPlane(ROUTES, extra=POLICY, evaluate_every="1s").start()
        self.addCleanup(self.control.stop)
        self.fake = FakeLLM().start()
        self.addCleanup(self.fake.stop)
        self.gate = Llmgate(PROXY % {"cport": self.control.port}, fake=self.fake,
                            env={"IT_NODE_ID": "it-node-1", "IT_NODE_TOKEN": NODE_TOKEN})
        self.gate.start()
        self.addCleanup(self.gate.stop)

    def chat_ok(self, model, content="hello"):
        started = time.monotonic()
        resp = self.gate.chat(content, model=model, timeout=15)
        elapsed = time.monotonic() - started
        self.assertEqual(resp.status, 200, resp.body[:300])
        return elapsed

    def parallel(self, n, model, content="hello"):
        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(lambda _: self.chat_ok(model, content), range(n)))

    def test_fleet_p95_and_policy_shift_from_proxy_reports(self):
        onset = time.monotonic()
        self.parallel(12, "model-a", "slow one " + SLOW)
        self.parallel(6, "model-b")
        for _ in range(4):  # streamed: time to first token
            resp = self.gate.chat('stream FAKELLM{"ttft_ms": 150}', model="model-b", stream=True,
                                  timeout=15)
            self.assertEqual(resp.status, 200, resp.body[:300])

        def reported():
            a, b = self.control.target("model-a"), self.control.target("model-b")
            if not a or not b:
                return None
            if int(a.get("samples", 0)) < 12 or int(b.get("samples", 0)) < 10:
                return None
            return a, b

        a, b = wait_until(reported, 15, "targets to show the proxy's reported attempts")
        self.assertEqual(int(a["samples"]), 12)
        self.assertEqual(int(b["samples"]), 10)
        self.assertEqual(a.get("reporting_nodes"), 1)
        # TTFT of the streamed attempts only (model-a's were not streamed).
        self.assertGreaterEqual(seconds(b.get("ttft_p95")), 0.14)
        self.assertLess(seconds(b.get("ttft_p95")), 0.5)
        self.assertNotIn("ttft_p95", a)
        self.assertGreaterEqual(seconds(a["latency_p95"]), 0.39)
        self.assertLess(seconds(a["latency_p95"]), 2.0)
        self.assertEqual(a.get("error_rate", 0), 0)
        self.assertGreater(int(a.get("prompt_tokens", 0)), 0)

        def shifted():
            table = self.control.ctl("routes")
            snapshot = table.get("snapshot", table)  # the snapshot itself, or wrapped
            for o in snapshot.get("overrides", []):
                if o.get("subject") == "model-a" and o.get("shift", {}).get("to") == "model-b":
                    return o
            return None

        override = wait_until(shifted, 10, "a policy shift of model-a to model-b")
        print("\ndegradation onset -> shift published: %.2f s (report_interval 300ms, "
              "evaluate_every 1s, the slow requests take 0.4 s)" % (time.monotonic() - onset))
        self.assertEqual(override.get("origin"), "ORIGIN_POLICY")
        self.assertIn("p95", override.get("reason", ""))
        self.assertEqual(self.control.target("model-a").get("health"), "HEALTH_DEGRADED")
        self.assertIn("KIND_SHIFT_STARTED subject=model-a", self.control.logs())

        # The proxy counts what it sent (and what it dropped: none here).
        metrics = self.gate.admin("GET", "/metrics").text()
        sent = [float(line.split()[-1]) for line in metrics.splitlines()
                if line.startswith("llmgate_telemetry_reports_sent_total")]
        self.assertTrue(sent and sent[0] >= 1, metrics[-2000:])
        self.assertIn("llmgate_telemetry_reports_dropped_total", metrics)

    def test_r34_stopped_control_plane_does_not_slow_requests(self):
        before = self.parallel(16, "model-b")
        wait_until(lambda: (self.control.target("model-b") or {}).get("samples") == "16", 10,
                   "the first reports to arrive")
        os.kill(self.control.proc.pid, signal.SIGSTOP)
        try:
            time.sleep(1.5)  # five report intervals with nobody reading
            during = self.parallel(16, "model-b")
            time.sleep(1.0)
            during += self.parallel(16, "model-b")
        finally:
            os.kill(self.control.proc.pid, signal.SIGCONT)
        med_before, med_during = statistics.median(before), statistics.median(during)
        self.assertLess(med_during, med_before + 0.05,
                        "median latency %.3fs with the control plane stopped, %.3fs before"
                        % (med_during, med_before))
        self.assertLess(max(during), 1.0)
        self.gate.assert_healthy()
        # After SIGCONT, later reports reach the control plane again (over the
        # same stream or a reopened one).
        self.parallel(4, "model-b")
        wait_until(lambda: int((self.control.target("model-b") or {}).get("samples", 0)) >= 20,
                   20, "reports to arrive again after SIGCONT")


if __name__ == "__main__":
    unittest.main()
