"""The configs the manifests ship load in the binaries the image ships.

- deploy/k8s/base/config/control.yaml + routes.yaml: llmgate-control starts on
  them (addresses, state file and webhook certificate moved to a temporary
  directory, everything else as shipped), with the environment the
  Deployment gives it when Secret llmgate-control-tokens holds only
  admin-token (the documented install); llmgatectl then sees the shipped
  routes and policy; SIGTERM stops it with exit 0.
- Without the admin token (no Secret at all) it still starts.
- deploy/k8s/components/sidecar-config/llmgate.yaml: `llmgate --check-config`.

Needs build/bin (LLMGATE_BIN_DIR) and python3-yaml (a yamllint dependency).
"""
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import unittest

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import harness  # noqa: E402  (free_port, wait_until, binary)

BASE_CONFIG = os.path.join(REPO, "deploy", "k8s", "base", "config")
SIDECAR_CONFIG = os.path.join(REPO, "deploy", "k8s", "components", "sidecar-config", "llmgate.yaml")


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((harness.HOST, port)) == 0


class ShippedControlConfig(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="llmgate-deploy-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        with open(os.path.join(BASE_CONFIG, "control.yaml"), encoding="utf-8") as f:
            self.shipped = yaml.safe_load(f)
        shutil.copy(os.path.join(BASE_CONFIG, "routes.yaml"), self.dir)
        gen = os.path.join(self.dir, "tls")
        subprocess.run(["bash", os.path.join(REPO, "scripts", "webhook-selfsigned-cert.sh"),
                        "--out", gen, "--days", "2"], check=True, capture_output=True)
        with open(os.path.join(gen, "webhook-tls-secret.yaml"), encoding="utf-8") as f:
            data = yaml.safe_load(f)["data"]
        import base64
        for key in ("tls.crt", "tls.key"):
            with open(os.path.join(gen, key), "wb") as out:
                out.write(base64.b64decode(data[key]))
        config = dict(self.shipped)
        self.grpc_port = harness.free_port()
        config["listen"] = "%s:%d" % (harness.HOST, self.grpc_port)
        config["admin_listen"] = "%s:%d" % (harness.HOST, harness.free_port())
        config["webhook_listen"] = "%s:%d" % (harness.HOST, harness.free_port())
        config["webhook_tls"] = {"cert_file": os.path.join(gen, "tls.crt"),
                                 "key_file": os.path.join(gen, "tls.key")}
        config["state_file"] = os.path.join(self.dir, "state", "control-state.json")
        os.makedirs(os.path.dirname(config["state_file"]))
        self.config_path = os.path.join(self.dir, "control.yaml")
        with open(self.config_path, "w", encoding="utf-8") as f:
            yaml.safe_dump(config, f)

    def start(self, env):
        full_env = {k: v for k, v in os.environ.items()
                    if k not in ("LLMGATE_ADMIN_TOKEN", "LLMGATE_NODE_TOKEN")}
        full_env.update(env)
        out = open(os.path.join(self.dir, "control.out"), "w")
        err = open(os.path.join(self.dir, "control.err"), "w")
        self.addCleanup(out.close)
        self.addCleanup(err.close)
        proc = subprocess.Popen([harness.binary("llmgate-control"), "--config", self.config_path],
                                stdout=out, stderr=err, env=full_env)
        self.addCleanup(lambda: proc.poll() is None and proc.kill())

        def up():
            if proc.poll() is not None:
                raise AssertionError("llmgate-control exited %s: %s" % (proc.returncode, self.logs()))
            return port_open(self.grpc_port)
        harness.wait_until(up, 15, "llmgate-control on the shipped config to listen")
        return proc

    def logs(self):
        text = ""
        for name in ("control.out", "control.err"):
            with open(os.path.join(self.dir, name), encoding="utf-8", errors="replace") as f:
                text += f.read()
        return text

    def stop(self, proc):
        proc.send_signal(signal.SIGTERM)
        self.assertEqual(proc.wait(timeout=15), 0, self.logs())

    def ctl(self, token, *args):
        r = subprocess.run([harness.binary("llmgatectl"), "--server", "%s:%d" % (harness.HOST, self.grpc_port),
                            "--json", *args], capture_output=True, text=True, timeout=15,
                           env=dict(os.environ, LLMGATE_ADMIN_TOKEN=token))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return json.loads(r.stdout)

    def test_starts_with_admin_token_and_serves_the_shipped_routes_and_policy(self):
        token = secrets.token_hex(16)
        proc = self.start({"LLMGATE_ADMIN_TOKEN": token})
        routes = json.dumps(self.ctl(token, "routes"))
        for name in ("llama-3.1-8b", "qwen2.5-7b", "auto"):
            self.assertIn(name, routes)
        policy = json.dumps(self.ctl(token, "thresholds", "get", "llama-3.1-8b"))
        self.assertIn("qwen2.5-7b", policy)  # shift_to of the shipped policy
        self.assertNotIn(token, self.logs())
        self.stop(proc)

    def test_starts_without_the_tokens_secret(self):
        proc = self.start({})
        self.stop(proc)

    def test_node_token_is_not_required(self):
        # The injected sidecar cannot send one yet (docs/KUBERNETES.md).
        self.assertNotIn("node_token_env", self.shipped)


class ShippedSidecarConfig(unittest.TestCase):
    def test_check_config_accepts_it(self):
        r = subprocess.run([harness.binary("llmgate"), "--check-config", SIDECAR_CONFIG],
                           capture_output=True, text=True, timeout=15, env={"PATH": os.environ.get("PATH", "")})
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_listens_on_loopback_and_serves_admin_to_the_pod_network(self):
        with open(SIDECAR_CONFIG, encoding="utf-8") as f:
            config = yaml.safe_load(f)
        self.assertEqual(config["server"]["listen"], "127.0.0.1:8080")
        self.assertEqual(config["server"]["admin_listen"], "0.0.0.0:9901")
        self.assertEqual(config["control_plane"]["address"], "llmgate-control.llmgate-system.svc:50051")


if __name__ == "__main__":
    unittest.main()
