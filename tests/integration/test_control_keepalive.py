"""R33, a blackholed control plane (issue 7): one llmgate-control that accepts
client pings every 500 ms (min_client_ping_interval) and one llmgate sidecar
with control_plane.keepalive_time 1s / keepalive_timeout 1s.

- Idle subscription: pings every second for several seconds do not earn a
  GOAWAY too_many_pings; the sidecar stays connected.
- SIGSTOP the control plane (the TCP connection stays open, nothing answers):
  within keepalive_time + keepalive_timeout + margin, /routes shows
  control_plane.connected false and llmgate_control_connected 0, while
  requests keep succeeding on the last table.
- SIGCONT: the sidecar reconnects and the control plane sees its ACK.
"""

import os
import signal
import time
import unittest

from control_harness import NODE_TOKEN, SIDECAR_CONFIG, ControlPlane
from harness import FakeLLM, Llmgate, wait_until

ROUTES = """\
models:
  - {name: model-a, provider: fake, upstream_model: up-a}
routes:
  - {name: auto, default: [model-a]}
"""

GATE_CONFIG = SIDECAR_CONFIG + """\
  keepalive_time: 1s
  keepalive_timeout: 1s
"""

KEEPALIVE_TIME = 1.0
KEEPALIVE_TIMEOUT = 1.0
# A ping may be sent up to keepalive_time after the stop, its answer awaited
# keepalive_timeout; the margin covers the admin poll and a loaded CI box.
DETECTION_BUDGET = KEEPALIVE_TIME + KEEPALIVE_TIMEOUT + 3.0


def routes(gate):
    resp = gate.admin("GET", "/routes")
    assert resp.status == 200, resp
    return resp.json()


class ControlKeepaliveTest(unittest.TestCase):
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeLLM().start()
        cls.addClassCleanup(cls.fake.stop)
        cls.control = ControlPlane(ROUTES, extra="min_client_ping_interval: 500ms").start()
        cls.addClassCleanup(cls.control.stop)
        gate = Llmgate(GATE_CONFIG, fake=cls.fake,
                       env={"NODE_ID": "sidecar-ka", "NODE_TOKEN": NODE_TOKEN})
        gate.template = gate.template.replace("@CPORT@", str(cls.control.port))
        cls.gate = gate.start()
        cls.addClassCleanup(cls.gate.stop)

    def continue_control(self):
        if self.control.proc.poll() is None:
            os.kill(self.control.proc.pid, signal.SIGCONT)

    def acked(self):
        version = self.control.ctl("routes")["version"]
        node = self.control.nodes().get("sidecar-ka", {})
        return node.get("acked_version") == version

    def test_r33_blackholed_control_plane_is_noticed_by_keepalive(self):
        gate = self.gate
        wait_until(lambda: routes(gate)["control_plane"]["connected"], 15, "subscription")
        wait_until(self.acked, 15, "the sidecar to ACK")
        version = routes(gate)["version"]

        # Idle stream, pings every second: llmgate-control accepts them (no
        # GOAWAY too_many_pings, no reconnection).
        time.sleep(6 * KEEPALIVE_TIME)
        self.assertTrue(routes(gate)["control_plane"]["connected"])
        self.assertNotIn("too_many_pings", gate.current_logs())
        self.assertNotIn("StreamRoutes ended", gate.current_logs())

        os.kill(self.control.proc.pid, signal.SIGSTOP)
        self.addCleanup(self.continue_control)
        stopped_at = time.monotonic()
        failures = []

        def disconnected():
            resp = gate.chat("hello", model="auto")
            if resp.status != 200:
                failures.append(resp.status)
            return not routes(gate)["control_plane"]["connected"]

        wait_until(disconnected, DETECTION_BUDGET + 5,
                   "the sidecar to notice the stopped control plane", interval=0.1)
        noticed_after = time.monotonic() - stopped_at
        print("R33: blackholed control plane noticed after %.2fs (keepalive %.0fs + %.0fs)"
              % (noticed_after, KEEPALIVE_TIME, KEEPALIVE_TIMEOUT))
        self.assertLess(noticed_after, DETECTION_BUDGET)
        self.assertIn("llmgate_control_connected 0", gate.admin("GET", "/metrics").text())
        # Requests keep being served from the last table while disconnected.
        for _ in range(10):
            resp = gate.chat("hello", model="auto")
            self.assertEqual(resp.status, 200, resp.text())
            self.assertEqual(resp.header("x-llmgate-model"), "model-a")
        self.assertEqual(failures, [])
        self.assertEqual(routes(gate)["version"], version)
        # Still disconnected a while later: the reconnect attempts reach a
        # listening socket that never answers the HTTP/2 handshake.
        time.sleep(1.0)
        self.assertFalse(routes(gate)["control_plane"]["connected"])

        os.kill(self.control.proc.pid, signal.SIGCONT)
        wait_until(lambda: routes(gate)["control_plane"]["connected"], 15,
                   "the sidecar to reconnect after SIGCONT")
        wait_until(self.acked, 15, "the sidecar to ACK again")
        self.assertIn("llmgate_control_connected 1", gate.admin("GET", "/metrics").text())
        self.assertEqual(gate.chat("hello", model="auto").status, 200)
        gate.assert_healthy()


if __name__ == "__main__":
    unittest.main()
