"""Runs llmgate-control on the config the manifests ship
(deploy/k8s/base/config/control.yaml + routes.yaml): listen addresses moved
to free loopback ports, the state file to a temporary directory and the
webhook certificate to one made by scripts/webhook-selfsigned-cert.sh;
everything else as shipped. Used by test_shipped_configs and test_injection.
"""
import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import harness  # noqa: E402  (free_port, wait_until, binary)

BASE_CONFIG = os.path.join(REPO, "deploy", "k8s", "base", "config")


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((harness.HOST, port)) == 0


class ShippedControlPlane:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="llmgate-deploy-")
        with open(os.path.join(BASE_CONFIG, "control.yaml"), encoding="utf-8") as f:
            self.shipped = yaml.safe_load(f)
        shutil.copy(os.path.join(BASE_CONFIG, "routes.yaml"), self.dir)
        gen = os.path.join(self.dir, "tls")
        subprocess.run(["bash", os.path.join(REPO, "scripts", "webhook-selfsigned-cert.sh"),
                        "--out", gen, "--days", "2"], check=True, capture_output=True)
        with open(os.path.join(gen, "webhook-tls-secret.yaml"), encoding="utf-8") as f:
            data = yaml.safe_load(f)["data"]
        for key in ("tls.crt", "tls.key", "ca.crt"):
            with open(os.path.join(gen, key), "wb") as out:
                out.write(base64.b64decode(data[key]))
        self.ca_file = os.path.join(gen, "ca.crt")
        config = dict(self.shipped)
        self.grpc_port = harness.free_port()
        self.admin_port = harness.free_port()
        self.webhook_port = harness.free_port()
        config["listen"] = "%s:%d" % (harness.HOST, self.grpc_port)
        config["admin_listen"] = "%s:%d" % (harness.HOST, self.admin_port)
        config["webhook_listen"] = "%s:%d" % (harness.HOST, self.webhook_port)
        config["webhook_tls"] = {"cert_file": os.path.join(gen, "tls.crt"),
                                 "key_file": os.path.join(gen, "tls.key")}
        config["state_file"] = os.path.join(self.dir, "state", "control-state.json")
        os.makedirs(os.path.dirname(config["state_file"]))
        self.config_path = os.path.join(self.dir, "control.yaml")
        with open(self.config_path, "w", encoding="utf-8") as f:
            yaml.safe_dump(config, f)
        self.proc = None

    def start(self, env):
        full_env = {k: v for k, v in os.environ.items()
                    if k not in ("LLMGATE_ADMIN_TOKEN", "LLMGATE_NODE_TOKEN")}
        full_env.update(env)
        with open(os.path.join(self.dir, "control.out"), "w") as out, \
                open(os.path.join(self.dir, "control.err"), "w") as err:
            self.proc = subprocess.Popen([harness.binary("llmgate-control"), "--config", self.config_path],
                                         stdout=out, stderr=err, env=full_env)

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("llmgate-control exited %s: %s" % (self.proc.returncode, self.logs()))
            return port_open(self.grpc_port)
        harness.wait_until(up, 15, "llmgate-control on the shipped config to listen")

    def logs(self):
        text = ""
        for name in ("control.out", "control.err"):
            path = os.path.join(self.dir, name)
            if os.path.exists(path):
                with open(path, encoding="utf-8", errors="replace") as f:
                    text += f.read()
        return text

    def stop(self):
        """SIGTERM; returns the exit status."""
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            return "killed after 15 s"

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.dir, True)
