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
import subprocess
import unittest

import yaml

from shipped_control import REPO, ShippedControlPlane, harness

SIDECAR_CONFIG = os.path.join(REPO, "deploy", "k8s", "components", "sidecar-config", "llmgate.yaml")


class ShippedControlConfig(unittest.TestCase):
    def setUp(self):
        self.control = ShippedControlPlane()
        self.addCleanup(self.control.close)

    def ctl(self, token, *args):
        r = subprocess.run([harness.binary("llmgatectl"), "--server",
                            "%s:%d" % (harness.HOST, self.control.grpc_port), "--json", *args],
                           capture_output=True, text=True, timeout=15,
                           env=dict(os.environ, LLMGATE_ADMIN_TOKEN=token))
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        return json.loads(r.stdout)

    def test_starts_with_admin_token_and_serves_the_shipped_routes_and_policy(self):
        token = secrets.token_hex(16)
        self.control.start({"LLMGATE_ADMIN_TOKEN": token})
        routes = json.dumps(self.ctl(token, "routes"))
        for name in ("llama-3.1-8b", "qwen2.5-7b", "auto"):
            self.assertIn(name, routes)
        policy = json.dumps(self.ctl(token, "thresholds", "get", "llama-3.1-8b"))
        self.assertIn("qwen2.5-7b", policy)  # shift_to of the shipped policy
        self.assertNotIn(token, self.control.logs())
        self.assertEqual(self.control.stop(), 0, self.control.logs())

    def test_starts_without_the_tokens_secret(self):
        self.control.start({})
        self.assertEqual(self.control.stop(), 0, self.control.logs())

    def test_node_token_is_not_required(self):
        # The injected sidecar cannot send one yet (docs/KUBERNETES.md).
        self.assertNotIn("node_token_env", self.control.shipped)


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
