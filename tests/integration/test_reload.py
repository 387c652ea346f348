"""R66: config reload under load, from the file watcher (a Kubernetes-style
ConfigMap symlink swap, and an editor-style rename) and SIGHUP.

A bounded load (4 threads, one keep-alive connection each, a few hundred
requests over ~5 s) runs while the config file is rewritten: a new
upstream_model, then an invalid file, then a valid one again. Checks: zero
failed requests and no connection dropped, each change visible in /config and
in what reaches the provider, the bad file refused with its key path in the
log while the previous config kept serving.
"""

import json
import os
import signal
import threading
import time
import unittest

import harness
from harness import FakeLLM, Llmgate, RawConn, build_request, wait_until

CONFIG = """\
server: {listen: "127.0.0.1:@PORT@", admin_listen: "127.0.0.1:@APORT@", workers: 2,
         max_request_bytes: 64KiB, request_header_timeout: 2s, idle_timeout: 10s,
         drain_timeout: 2s, config_watch_interval: 100ms}
providers:
  - {name: fake, kind: openai, base_url: "http://127.0.0.1:@FPORT@/v1", api_key_env: FAKE_KEY,
     allow_private_network: true,
     timeouts: {connect: 1s, first_byte: 5s, stream_idle: 2s, total: @TOTAL@}}
models:
  - {name: gpt-4o-mini, provider: fake, upstream_model: @UPSTREAM@, context_window: 128000,
     price_per_mtok: {input: 0.15, output: 0.6}}
routes:
  - {name: auto, default: [gpt-4o-mini]}
cache: {mode: "off"}
"""

THREADS = 4
PER_THREAD = 250  # the bound: at most 1000 requests


class Load(threading.Thread):
    """Sequential requests on one keep-alive connection until stopped."""

    def __init__(self, port, index, stop):
        super().__init__(daemon=True)
        self.port, self.index, self.stop = port, index, stop
        self.ok = 0
        self.failures = []
        self.models = set()  # upstream models fakellm was asked for (from the answers)

    def run(self):
        try:
            conn = RawConn(self.port, timeout=10)
        except OSError as exc:
            self.failures.append("connect: %r" % exc)
            return
        with conn:
            for n in range(PER_THREAD):
                if self.stop.is_set():
                    break
                body = {"model": "gpt-4o-mini",
                        "messages": [{"role": "user", "content": "reload %d %d" % (self.index, n)}]}
                if not conn.send(build_request("POST", "/v1/chat/completions", json_body=body)):
                    self.failures.append("request %d: connection closed by llmgate" % n)
                    return
                try:
                    resp = conn.read_response(timeout=10)
                except AssertionError as exc:
                    self.failures.append("request %d: %s" % (n, exc))
                    return
                if resp.status != 200:
                    self.failures.append("request %d: HTTP %d %r" % (n, resp.status, resp.body[:200]))
                    continue
                if resp.header("connection", "").lower() == "close":
                    self.failures.append("request %d: Connection: close" % n)
                    return
                self.ok += 1
                time.sleep(0.02)


class ReloadTest(unittest.TestCase):
    maxDiff = 4000

    def setUp(self):
        self.fake = FakeLLM().start()
        self.addCleanup(self.fake.stop)
        self.gate = Llmgate(self.template("up-v1", "30s"), fake=self.fake)
        # Kubernetes ConfigMap layout: config.yaml -> ..data/config.yaml,
        # ..data -> ..v1 (updates swap ..data atomically).
        root = self.root = os.path.join(self.gate.dir, "configmap")
        os.mkdir(root)
        os.mkdir(os.path.join(root, "..v1"))
        open(os.path.join(root, "..v1", "config.yaml"), "w").close()
        os.symlink("..v1", os.path.join(root, "..data"))
        link = os.path.join(root, "config.yaml")
        os.symlink(os.path.join("..data", "config.yaml"), link)
        self.gate.config_path = link  # start() writes the first version through the links
        self.gate.start()
        self.addCleanup(lambda: self.gate.proc.poll() is None and self.gate.stop(check=False))
        self.versions = 1

    @staticmethod
    def template(upstream, total):
        return CONFIG.replace("@UPSTREAM@", upstream).replace("@TOTAL@", total)

    def configmap_update(self, text):
        """What the kubelet does: a new timestamped folder, then ..data swapped by rename."""
        self.versions += 1
        root = self.root
        folder = "..v%d" % self.versions
        os.mkdir(os.path.join(root, folder))
        with open(os.path.join(root, folder, "config.yaml"), "w") as f:
            f.write(text)
        tmp = os.path.join(root, "..data_tmp")
        os.symlink(folder, tmp)
        os.rename(tmp, os.path.join(root, "..data"))

    def render(self, upstream, total="30s"):
        self.gate.template = self.template(upstream, total)
        return self.gate.render()

    def effective(self):
        resp = self.gate.admin("GET", "/config", timeout=5)
        self.assertEqual(resp.status, 200)
        return resp.json()

    def upstream_model(self):
        return self.effective()["models"][0]["upstream_model"]

    def last_upstream_model(self):
        requests = self.fake.stats().get("last_requests", [])
        return requests[-1]["body"]["model"] if requests else None

    def test_reload_under_load_keeps_every_request_and_refuses_a_bad_file(self):
        gate = self.gate
        self.assertEqual(self.upstream_model(), "up-v1")
        stop = threading.Event()
        load = [Load(gate.port, i, stop) for i in range(THREADS)]
        for t in load:
            t.start()
        try:
            time.sleep(1.0)
            # 1. A ConfigMap update: picked up by the watcher, no SIGHUP.
            self.configmap_update(self.render("up-v2"))
            wait_until(lambda: self.upstream_model() == "up-v2", 5, "/config to show up-v2")
            wait_until(lambda: self.last_upstream_model() == "up-v2", 5,
                       "requests to reach fakellm as up-v2")
            time.sleep(1.0)

            # 2. An invalid file: refused, logged with its key path; up-v2 keeps serving.
            self.configmap_update(self.render("up-bad", total="-5s"))
            wait_until(lambda: "refused" in gate.logs(), 5, "the bad config to be refused")
            refused = [l for l in gate.logs().splitlines() if "refused" in l]
            self.assertEqual(len(refused), 1, refused)
            self.assertIn("providers[0].timeouts.total", refused[0])
            self.assertIn("previous config keeps serving", refused[0])
            time.sleep(1.0)  # several polls: the same bad content is not re-read and re-logged
            self.assertEqual(len([l for l in gate.logs().splitlines() if "refused" in l]), 1)
            self.assertEqual(self.upstream_model(), "up-v2")
            self.assertEqual(self.last_upstream_model(), "up-v2")

            # 3. Valid again, written the way editors do (temp file renamed over the path).
            tmp = gate.config_path + ".tmp"
            with open(tmp, "w") as f:
                f.write(self.render("up-v3", total="20s"))
            os.rename(tmp, gate.config_path)
            wait_until(lambda: self.upstream_model() == "up-v3", 5, "/config to show up-v3")
            self.assertEqual(self.effective()["providers"][0]["timeouts"]["total"], "20s")
            wait_until(lambda: self.last_upstream_model() == "up-v3", 5, "up-v3 upstream")

            # 4. SIGHUP re-reads the same file: a reload, no change, nothing dropped.
            os.kill(gate.proc.pid, signal.SIGHUP)
            wait_until(lambda: "SIGHUP: config reloaded" in gate.logs(), 5, "the SIGHUP reload")
            time.sleep(0.5)
        finally:
            stop.set()
            for t in load:
                t.join(15)
        failures = [f for t in load for f in t.failures]
        total = sum(t.ok for t in load)
        self.assertEqual(failures, [], "failed requests during reloads")
        self.assertGreaterEqual(total, 200, "the load was too small to mean anything")
        print("reload test: %d requests, 0 failed, %d connections kept" % (total, THREADS))
        # A touch without a content change is not a reload.
        reloads = gate.logs().count("config reloaded")
        os.utime(os.path.realpath(gate.config_path))
        time.sleep(0.4)
        self.assertEqual(gate.logs().count("config reloaded"), reloads)
        metrics = gate.admin("GET", "/metrics").text()
        version = [l for l in metrics.splitlines() if l.startswith("llmgate_route_version")]
        self.assertEqual(version, ["llmgate_route_version 4"], version)
        gate.stop()


if __name__ == "__main__":
    unittest.main()
