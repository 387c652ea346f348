"""The configs the manifests ship load in the binaries the image ships.

- deploy/k8s/base/config/control.yaml + routes.yaml: llmgate-control starts on
  them (addresses, state file and webhook certificate moved to a temporary
  directory, everything else as shipped), with the environment the
  Deployment gives it when Secret llmgate-control-tokens holds admin-token
  and node-token (the documented install); llmgatectl then sees the shipped
  routes and policy; SIGTERM stops it with exit 0 well within the
  Deployment's terminationGracePeriodSeconds.
- Without the admin token it still starts; without the node token (which
  control.yaml requires) it refuses to, naming the variable.
- deploy/k8s/components/sidecar-config/llmgate.yaml: `llmgate --check-config`
  with the environment the injected sidecar has (the webhook's variables plus
  the keys of overlays/example-app/sidecar-secrets.example.yaml), and refused
  without the Secret's keys.

Needs build/bin (LLMGATE_BIN_DIR) and python3-yaml (a yamllint dependency).
"""
import json
import os
import secrets
import subprocess
import time
import unittest

import yaml

from shipped_control import REPO, ShippedControlPlane, harness

SIDECAR_CONFIG = os.path.join(REPO, "deploy", "k8s", "components", "sidecar-config", "llmgate.yaml")
SIDECAR_SECRET = os.path.join(REPO, "deploy", "k8s", "overlays", "example-app", "sidecar-secrets.example.yaml")
CONTROL_DEPLOYMENT = os.path.join(REPO, "deploy", "k8s", "base", "deployment.yaml")


def sidecar_env(with_secret=True):
    """What the injected container's environment holds: the webhook's env
    and, with the Secret, its keys (envFrom)."""
    env = {"PATH": os.environ.get("PATH", ""), "POD_NAME": "chat-client-0", "POD_NAMESPACE": "llmgate-demo",
           "LLMGATE_CONTROL_ADDRESS": "llmgate-control.llmgate-system.svc:50051"}
    if with_secret:
        with open(SIDECAR_SECRET, encoding="utf-8") as f:
            env.update({k: str(v) for k, v in yaml.safe_load(f)["stringData"].items()})
    return env


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
        node_token = secrets.token_hex(16)
        self.control.start({"LLMGATE_ADMIN_TOKEN": token, "LLMGATE_NODE_TOKEN": node_token})
        routes = json.dumps(self.ctl(token, "routes"))
        for name in ("llama-3.1-8b", "qwen2.5-7b", "auto"):
            self.assertIn(name, routes)
        policy = json.dumps(self.ctl(token, "thresholds", "get", "llama-3.1-8b"))
        self.assertIn("qwen2.5-7b", policy)  # shift_to of the shipped policy
        self.assertNotIn(token, self.control.logs())
        self.assertNotIn(node_token, self.control.logs())
        # SIGTERM: exits 0 well within the Deployment's grace period.
        with open(CONTROL_DEPLOYMENT, encoding="utf-8") as f:
            grace = yaml.safe_load(f)["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        started = time.monotonic()
        self.assertEqual(self.control.stop(), 0, self.control.logs())
        self.assertLess(time.monotonic() - started + 2, grace)

    def test_starts_without_the_admin_token(self):
        self.control.start({"LLMGATE_NODE_TOKEN": secrets.token_hex(16)})
        self.assertEqual(self.control.stop(), 0, self.control.logs())

    def test_node_token_is_required(self):
        # Sidecars send it from Secret llmgate-sidecar-secrets (docs/KUBERNETES.md).
        self.assertEqual(self.control.shipped["node_token_env"], "LLMGATE_NODE_TOKEN")
        with self.assertRaises(AssertionError) as refused:
            self.control.start({"LLMGATE_ADMIN_TOKEN": secrets.token_hex(16)})
        self.assertIn("LLMGATE_NODE_TOKEN", str(refused.exception))


class ShippedSidecarConfig(unittest.TestCase):
    def check_config(self, env):
        return subprocess.run([harness.binary("llmgate"), "--check-config", SIDECAR_CONFIG],
                              capture_output=True, text=True, timeout=15, env=env)

    def test_check_config_accepts_it_with_the_sidecar_secret(self):
        r = self.check_config(sidecar_env())
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertNotIn("replace-me", r.stdout + r.stderr)  # secrets are never printed

    def test_check_config_refuses_it_without_the_secret(self):
        # envFrom is optional: without the Secret the variables are unset and
        # llmgate says which one is missing.
        r = self.check_config(sidecar_env(with_secret=False))
        self.assertNotEqual(r.returncode, 0)
        self.assertRegex(r.stdout + r.stderr, "OPENAI_API_KEY|LLMGATE_NODE_TOKEN")

    def test_every_env_name_is_a_key_of_the_secret(self):
        with open(SIDECAR_CONFIG, encoding="utf-8") as f:
            config = yaml.safe_load(f)
        with open(SIDECAR_SECRET, encoding="utf-8") as f:
            secret = yaml.safe_load(f)
        keys = set(secret["stringData"])
        names = {p["api_key_env"] for p in config["providers"] if "api_key_env" in p}
        names.add(config["control_plane"]["token_env"])
        self.assertEqual(names, keys)
        self.assertEqual(secret["metadata"]["name"], "llmgate-sidecar-secrets")
        self.assertTrue(all(v == "replace-me" for v in secret["stringData"].values()))
        # Not part of the example-app kustomization: `apply -k` never
        # overwrites the real Secret with placeholders.
        with open(os.path.join(os.path.dirname(SIDECAR_SECRET), "kustomization.yaml"), encoding="utf-8") as f:
            self.assertNotIn(os.path.basename(SIDECAR_SECRET), f.read())

    def test_listens_on_loopback_and_serves_admin_to_the_pod_network(self):
        with open(SIDECAR_CONFIG, encoding="utf-8") as f:
            config = yaml.safe_load(f)
        self.assertEqual(config["server"]["listen"], "127.0.0.1:8080")
        self.assertEqual(config["server"]["admin_listen"], "0.0.0.0:9901")
        self.assertEqual(config["control_plane"]["address"], "llmgate-control.llmgate-system.svc:50051")


if __name__ == "__main__":
    unittest.main()
