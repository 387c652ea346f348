"""The proxy side of the control plane (issue 7) with real processes: one
llmgate-control (routes_file, node token), one fakellm and TWO llmgate sidecars
subscribed to it.

Covers: subscribe + ACK (/routes, llmgatectl status); an operator shift moves
model-a's traffic to model-b on both sidecars and back when cleared; the
control plane killed -> zero errors, restarted -> re-subscription; a sidecar
restarted while the control plane is down serves its cache_file; a snapshot
naming an unknown provider is NACKed and the old version keeps serving; a
wrong or missing node token is refused; rules with non-task conditions
(last_user_message, min_prompt_tokens) and a weighted split pushed by the
control plane route correctly on both sidecars (issues 5 and 7).
"""

import json
import os
import re
import signal
import subprocess
import threading
import time
import unittest

from control_harness import ADMIN_TOKEN, NODE_TOKEN, SIDECAR_CONFIG, ControlPlane
from harness import FakeLLM, Llmgate, binary, wait_until


ROUTES = """\
models:
  - {name: model-a, provider: fake, upstream_model: up-a}
  - {name: model-b, provider: fake, upstream_model: up-b}
routes:
  - {name: auto, default: [model-a, model-b]}
"""

GATE_CONFIG = SIDECAR_CONFIG + """\
  cache_file: "@CACHE@"
"""


def make_gate(fake, control, node_id, token=NODE_TOKEN):
    """A sidecar of `control`; token None: no token_env at all."""
    env = {"NODE_ID": node_id}
    template = GATE_CONFIG
    if token is None:
        template = template.replace("  token_env: NODE_TOKEN\n", "")
    else:
        env["NODE_TOKEN"] = token
    gate = Llmgate(template, fake=fake, env=env)
    template = gate.template.replace("@CPORT@", str(control.port))
    gate.template = template.replace("@CACHE@", os.path.join(gate.dir, "routes-cache.json"))
    return gate


def routes(gate):
    resp = gate.admin("GET", "/routes")
    assert resp.status == 200, resp
    return resp.json()


def served_by(gate, model):
    """(status, x-llmgate-model, x-llmgate-route, upstream model) of one chat request."""
    resp = gate.chat("hello", model=model)
    upstream = resp.json().get("model") if resp.status == 200 else None
    return resp.status, resp.header("x-llmgate-model"), resp.header("x-llmgate-route"), upstream


class ControlPlaneTest(unittest.TestCase):
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.fake = FakeLLM().start()
        cls.addClassCleanup(cls.fake.stop)
        cls.control = ControlPlane(ROUTES).start()
        cls.addClassCleanup(cls.control.stop)
        cls.gates = [make_gate(cls.fake, cls.control, "sidecar-%d" % i) for i in (1, 2)]
        for gate in cls.gates:
            gate.start()
            cls.addClassCleanup(gate.stop)

    def setUp(self):
        if self.control.proc.poll() is not None:
            self.control.start()
        self.wait_all_on(self.current_version())

    def current_version(self):
        return self.control.ctl("routes")["version"]

    def wait_all_on(self, version, timeout=15):
        for gate in self.gates:
            wait_until(lambda: routes(gate)["version"] == version, timeout,
                       "%s to serve route version %s" % (gate.env["NODE_ID"], version))

    def wait_acked(self, version, timeout=15):
        wait_until(lambda: all(self.control.nodes().get(g.env["NODE_ID"], {})
                               .get("acked_version") == version for g in self.gates), timeout,
                   "both sidecars to ACK version %s" % version)

    # (a) ------------------------------------------------------------------
    def test_a_both_subscribe_and_ack(self):
        version = self.current_version()
        self.wait_acked(version)
        for gate in self.gates:
            body = routes(gate)
            self.assertEqual(body["source"], "control_plane")
            self.assertEqual([m["name"] for m in body["models"]], ["model-a", "model-b"])
            self.assertEqual(body["routes"][0]["default"], ["model-a", "model-b"])
            self.assertTrue(body["control_plane"]["connected"], body)
            # The file's own model is gone: the snapshot replaced models.
            self.assertEqual(gate.chat("x", model="file-model").status, 404)
            self.assertEqual(served_by(gate, "auto")[:2], (200, "model-a"))
            metrics = gate.admin("GET", "/metrics").text()
            self.assertIn("llmgate_control_connected 1", metrics)
            self.assertIn("llmgate_route_version %s" % version, metrics)
            # routes_version in the access log (stdout).
            wait_until(lambda: '"routes_version":%s' % version in gate.current_logs(), 5,
                       "routes_version in the access log")
        self.assertNotIn(NODE_TOKEN, self.gates[0].logs())

    # (b) ------------------------------------------------------------------
    def test_b_shift_moves_traffic_on_both_sidecars_and_back(self):
        before = self.current_version()
        out = self.control.ctl("override", "shift", "model-a", "--to", "model-b", "--for", "10m")
        override_id = out["override"]["id"]
        version = self.current_version()
        self.assertNotEqual(version, before)
        self.wait_all_on(version)
        try:
            for gate in self.gates:
                for model in ("model-a", "auto"):
                    status, served, label, upstream = served_by(gate, model)
                    self.assertEqual((status, served, upstream), (200, "model-b", "up-b"))
                    self.assertIn("override=%s" % override_id, label)
                body = routes(gate)
                self.assertEqual(body["overrides"][0]["id"], override_id)
                self.assertEqual(body["overrides"][0]["to"], "model-b")
                self.assertTrue(body["overrides"][0]["expires_at"])
                self.assertIn('llmgate_route_overrides{model="model-a",target="model-b"} 1',
                              gate.admin("GET", "/metrics").text())
            self.wait_acked(version)
        finally:
            self.control.ctl("override", "clear", override_id)
        cleared = self.current_version()
        self.wait_all_on(cleared)
        for gate in self.gates:
            status, served, label, upstream = served_by(gate, "model-a")
            self.assertEqual((status, served, upstream), (200, "model-a", "up-a"))
            self.assertNotIn("override", label)
            self.assertIn('llmgate_route_overrides{model="model-a",target="model-b"} 0',
                          gate.admin("GET", "/metrics").text())

    # (c) ------------------------------------------------------------------
    def test_c_control_plane_down_then_back(self):
        out = self.control.ctl("override", "shift", "model-a", "--to", "model-b", "--for", "10m")
        override_id = out["override"]["id"]
        version = self.current_version()
        self.wait_all_on(version)
        try:
            self.down_and_back(version)
        finally:
            if self.control.proc.poll() is not None:
                self.control.start()
            self.control.ctl("override", "clear", override_id)
        cleared = self.current_version()
        self.wait_all_on(cleared)
        restarted = self.gates[1]
        self.assertEqual(routes(restarted)["source"], "control_plane")
        self.assertEqual(served_by(restarted, "model-a")[:2], (200, "model-a"))

    def down_and_back(self, version):
        self.control.kill()
        for gate in self.gates:
            wait_until(lambda: not routes(gate)["control_plane"]["connected"], 10,
                       "the sidecar to notice the control plane is gone")
        # Zero errors, the last table (with its shift) keeps serving.
        for _ in range(10):
            for gate in self.gates:
                self.assertEqual(served_by(gate, "model-a")[:2], (200, "model-b"))
        self.assertIn("llmgate_control_connected 0", self.gates[0].admin("GET", "/metrics").text())
        # A sidecar restarted while the control plane is down serves its cache file.
        restarted = self.gates[1]
        restarted.restart()
        body = routes(restarted)
        self.assertEqual((body["version"], body["source"]), (version, "cache_file"), body)
        self.assertEqual(served_by(restarted, "model-a")[:2], (200, "model-b"))
        # The control plane returns (its restart may publish a new version): both
        # re-subscribe and ACK whatever it serves now.
        self.control.start()
        now = self.current_version()
        self.wait_acked(now)
        for gate in self.gates:
            wait_until(lambda: routes(gate)["control_plane"]["connected"], 10, "reconnection")
            self.assertEqual(routes(gate)["version"], now)

    # (d) ------------------------------------------------------------------
    def test_d_unknown_provider_is_nacked(self):
        good = self.current_version()
        self.wait_acked(good)
        self.control.stop()
        self.control.write_routes(
            ROUTES.replace("routes:", "  - {name: model-x, provider: nope}\nroutes:"))
        try:
            self.control.start()
            bad = self.current_version()
            self.assertNotEqual(bad, good)

            def nacked():
                nodes = self.control.nodes()
                return all(nodes.get(g.env["NODE_ID"], {}).get("nacked_version") == bad
                           for g in self.gates)
            wait_until(nacked, 15, "both sidecars to NACK version %s" % bad)
            for node in self.control.nodes().values():
                self.assertEqual(node["acked_version"], good)
                self.assertIn('models[2].provider: unknown provider "nope"',
                              node["last_error"]["message"])
                self.assertEqual(node["last_error"]["code"], 3)
            for gate in self.gates:
                body = routes(gate)
                self.assertEqual(body["version"], good)
                self.assertIn("refused", body["control_plane"]["last_error"])
                self.assertEqual(served_by(gate, "auto")[:2], (200, "model-a"))
                nacks = re.search(r"^llmgate_control_nacks_total (\S+)$",
                                  gate.admin("GET", "/metrics").text(), re.M)
                self.assertTrue(nacks and float(nacks.group(1)) >= 1)
        finally:
            self.control.stop()
            self.control.write_routes(ROUTES)
            self.control.start()
        fixed = self.current_version()
        self.wait_all_on(fixed)
        self.wait_acked(fixed)

    # issues 5 + 7: the full rule language over the wire ---------------------
    def test_j_non_task_conditions_and_splits_route_on_the_sidecars(self):
        rules = ROUTES.replace(
            "  - {name: auto, default: [model-a, model-b]}\n",
            "  - name: auto\n"
            "    rules:\n"
            "      - {when: {last_user_message: '(?i)^translate\\b'}, targets: [model-b]}\n"
            "      - {when: {min_prompt_tokens: 2000},\n"
            "         split: [{weight: 1, targets: [model-b]}, {weight: 0, targets: [model-a]}]}\n"
            "    default: [model-a, model-b]\n")
        self.assertIn("last_user_message", rules)
        self.control.stop()
        self.control.write_routes(rules)
        try:
            self.control.start()
            version = self.current_version()
            self.wait_all_on(version)
            self.wait_acked(version)
            table = self.control.ctl("routes")
            rule = table["routes"][0]["rules"][0]
            self.assertEqual(rule.get("last_user_message"), "(?i)^translate\\b", rule)
            self.assertEqual(rule.get("task", []), [])
            env = dict(os.environ, LLMGATE_ADMIN_TOKEN=ADMIN_TOKEN)
            text = subprocess.run([binary("llmgatectl"), "--server", "127.0.0.1:%d" %
                                   self.control.port, "routes"], env=env, capture_output=True,
                                  text=True, timeout=20).stdout
            self.assertIn("1. last_user_message=/(?i)^translate\\b/ -> model-b", text)
            self.assertIn("2. tokens>=2000 -> split 1:model-b | 0:model-a", text)
            self.assertIn("default -> model-a,model-b", text)
            long_prompt = "word " * 4000
            for gate in self.gates:
                served = routes(gate)["routes"][0]["rules"]
                self.assertEqual(served[0]["when"], {"last_user_message": "(?i)^translate\\b"})
                self.assertEqual(served[1]["split"][0], {"weight": 1, "targets": ["model-b"]})
                # A plain request: no rule matches (the old proto made rule 1
                # an empty rule that matched everything).
                status, model, label, upstream = served_by(gate, "auto")
                self.assertEqual((status, model, upstream), (200, "model-a", "up-a"))
                self.assertEqual(label, "auto; default")
                resp = gate.chat("Translate this to French", model="auto")
                self.assertEqual(resp.status, 200)
                self.assertEqual(resp.header("x-llmgate-model"), "model-b")
                self.assertTrue(resp.header("x-llmgate-route").startswith("auto; rule=1"),
                                resp.header("x-llmgate-route"))
                resp = gate.chat("please translate this", model="auto")  # anchored: no match
                self.assertEqual(resp.header("x-llmgate-model"), "model-a")
                resp = gate.chat(long_prompt, model="auto")
                self.assertEqual(resp.status, 200)
                self.assertEqual(resp.header("x-llmgate-model"), "model-b")
                self.assertIn("rule=2", resp.header("x-llmgate-route"))
                self.assertIn("split=1/2", resp.header("x-llmgate-route"))
        finally:
            self.control.stop()
            self.control.write_routes(ROUTES)
            self.control.start()
        fixed = self.current_version()
        self.wait_all_on(fixed)
        self.wait_acked(fixed)

    # SIGHUP ----------------------------------------------------------------
    def test_f_sighup_reapplies_the_snapshot_on_the_new_file(self):
        gate = self.gates[0]
        version = self.current_version()
        with open(gate.config_path) as f:
            original = f.read()
        extra = ('  - {name: extra, kind: openai, base_url: "http://127.0.0.1:9/v1",'
                 ' allow_private_network: true}\nmodels:')
        try:
            with open(gate.config_path, "w") as f:
                f.write(original.replace("models:", extra, 1))
            os.kill(gate.proc.pid, signal.SIGHUP)
            wait_until(lambda: "extra" in gate.admin("GET", "/config").text(), 10,
                       "the reloaded file to be served")
            body = routes(gate)
            self.assertEqual((body["version"], body["source"]), (version, "control_plane"))
            self.assertEqual([m["name"] for m in body["models"]], ["model-a", "model-b"])
            self.assertEqual(served_by(gate, "auto")[:2], (200, "model-a"))
        finally:
            with open(gate.config_path, "w") as f:
                f.write(original)
            os.kill(gate.proc.pid, signal.SIGHUP)
            wait_until(lambda: "extra" not in gate.admin("GET", "/config").text(), 10,
                       "the original file to be served again")

    # R32 -------------------------------------------------------------------
    def test_g_swaps_under_load_never_mix_versions(self):
        gate = self.gates[0]
        shifted, plain = set(), {self.current_version()}
        errors, stop = [], threading.Event()

        def load():
            while not stop.is_set():
                try:
                    resp = gate.chat("load", model="model-a")
                    if resp.status != 200:
                        errors.append(resp.status)
                except OSError as exc:
                    errors.append(repr(exc))

        workers = [threading.Thread(target=load) for _ in range(4)]
        for w in workers:
            w.start()
        try:
            for _ in range(5):
                out = self.control.ctl("override", "shift", "model-a", "--to", "model-b")
                shifted.add(self.current_version())
                time.sleep(0.1)
                self.control.ctl("override", "clear", out["override"]["id"])
                plain.add(self.current_version())
                time.sleep(0.1)
        finally:
            stop.set()
            for w in workers:
                w.join(10)
        self.assertEqual(errors, [])
        self.wait_all_on(self.current_version())
        checked = {"model-a": 0, "model-b": 0}
        for line in gate.current_logs().splitlines():
            if '"route":"model-a"' not in line or '"routes_version"' not in line:
                continue
            entry = json.loads(line)
            version = str(entry["routes_version"])
            if version in shifted:
                self.assertEqual(entry["model"], "model-b", line)
            elif version in plain:
                self.assertEqual(entry["model"], "model-a", line)
            else:
                continue
            checked[entry["model"]] += 1
        self.assertGreater(checked["model-a"], 0, checked)
        self.assertGreater(checked["model-b"], 0, checked)

    # Expiry on the proxy's own clock ------------------------------------------
    def test_h_expired_shift_ends_on_the_proxy_clock_while_control_is_down(self):
        out = self.control.ctl("override", "shift", "model-a", "--to", "model-b", "--for", "3s")
        override_id = out["override"]["id"]
        self.wait_all_on(self.current_version())
        gate = self.gates[0]
        self.assertEqual(served_by(gate, "model-a")[:2], (200, "model-b"))
        self.control.kill()
        try:
            wait_until(lambda: served_by(gate, "model-a")[1] == "model-a", 10,
                       "the expired shift to stop applying")
            body = routes(gate)
            self.assertEqual(body["overrides"][0]["id"], override_id)
            self.assertTrue(body["overrides"][0]["expired"])
            self.assertIn('llmgate_route_overrides{model="model-a",target="model-b"} 0',
                          gate.admin("GET", "/metrics").text())
        finally:
            self.control.start()
            self.control.ctl("override", "clear", override_id)

    # R25 -------------------------------------------------------------------
    def test_i_control_plane_absent_at_startup(self):
        self.control.kill()
        gate = make_gate(self.fake, self.control, "late-sidecar")
        try:
            gate.start()  # ready (/readyz 200) on the file's routes alone
            body = routes(gate)
            self.assertEqual((body["version"], body["source"]), ("", "config"))
            self.assertFalse(body["control_plane"]["connected"])
            self.assertIn("llmgate_control_connected 0", gate.admin("GET", "/metrics").text())
            self.assertEqual(served_by(gate, "file-model")[:2], (200, "file-model"))
            self.control.start()
            version = self.current_version()
            wait_until(lambda: routes(gate)["version"] == version, 15,
                       "the late sidecar to subscribe once the control plane is up")
            self.assertEqual(served_by(gate, "model-a")[:2], (200, "model-a"))
            self.assertIn("llmgate_control_connected 1", gate.admin("GET", "/metrics").text())
        finally:
            if self.control.proc.poll() is not None:
                self.control.start()
            gate.stop()

    # (e) ------------------------------------------------------------------
    def test_e_wrong_or_missing_node_token_is_refused(self):
        for token in ("wrong-token", None):
            gate = make_gate(self.fake, self.control, "intruder", token=token)
            gate.start()
            try:
                wait_until(lambda: "16" in routes(gate)["control_plane"]["last_error"] or
                           "nauthenticated" in routes(gate)["control_plane"]["last_error"], 10,
                           "the sidecar to see UNAUTHENTICATED")
                body = routes(gate)
                self.assertEqual((body["version"], body["source"]), ("", "config"))
                self.assertFalse(body["control_plane"]["connected"])
                self.assertNotIn("intruder", self.control.nodes())
                # It still serves its own file config.
                self.assertEqual(served_by(gate, "file-model")[:2], (200, "file-model"))
                if token:
                    self.assertNotIn(token, gate.logs())
            finally:
                gate.stop()


if __name__ == "__main__":
    unittest.main()
