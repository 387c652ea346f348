"""A real llmgate-control process for integration tests (standard library only).

ControlPlane writes a control config and a routes file into a temp folder,
starts `llmgate-control` on a free loopback port with an admin token and a
node token, drives it with `llmgatectl --json`, and stops it by PID (after a
SIGCONT, since a stopped process ignores SIGTERM).
"""

import json
import os
import signal
import subprocess

import harness
from harness import binary, free_port, wait_until

ADMIN_TOKEN = "it-admin-" + harness.canary("admin")
NODE_TOKEN = "it-node-" + harness.canary("node")

# A sidecar subscribed to llmgate-control: its own file names a model the
# snapshot does not have (once subscribed, only the snapshot's models exist).
# Tests append their own control_plane keys (cache_file, keepalive_*, ...).
SIDECAR_CONFIG = """\
server: {listen: "127.0.0.1:@PORT@", admin_listen: "127.0.0.1:@APORT@", workers: 2,
         drain_timeout: 1s}
providers:
  - {name: fake, kind: openai, base_url: "http://127.0.0.1:@FPORT@/v1", api_key_env: FAKE_KEY,
     allow_private_network: true,
     timeouts: {connect: 1s, first_byte: 2s, stream_idle: 2s, total: 10s}}
models:
  - {name: file-model, provider: fake, upstream_model: up-file}
control_plane:
  address: "127.0.0.1:@CPORT@"
  node_id_env: NODE_ID
  token_env: NODE_TOKEN
  reconnect_max: 1s
"""

CONTROL = """\
listen: "127.0.0.1:%(port)d"
admin_token_env: LLMGATE_ADMIN_TOKEN
node_token_env: LLMGATE_NODE_TOKEN
state_file: state.json
routes_file: routes.yaml
window: %(window)s
evaluate_every: %(evaluate_every)s
%(extra)s
"""


class ControlPlane:
    """One llmgate-control, restartable on the same port and state file.

    `extra` is appended to the config (e.g. a `policies:` list)."""

    def __init__(self, routes, extra="", window="60s", evaluate_every="5s"):
        self.dir = harness._make_temp_dir("llmgate-control-it-")
        self.port = free_port()
        self.routes_path = os.path.join(self.dir, "routes.yaml")
        self.config_path = os.path.join(self.dir, "control.yaml")
        self.stdout_path = os.path.join(self.dir, "stdout.log")
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        self.proc = None
        self.write_routes(routes)
        with open(self.config_path, "w") as f:
            f.write(CONTROL % {"port": self.port, "window": window,
                               "evaluate_every": evaluate_every, "extra": extra})

    def write_routes(self, text):
        with open(self.routes_path, "w") as f:
            f.write(text)

    def start(self):
        env = dict(os.environ, LLMGATE_ADMIN_TOKEN=ADMIN_TOKEN, LLMGATE_NODE_TOKEN=NODE_TOKEN)
        self.proc = harness._start([binary("llmgate-control"), "--config", self.config_path], env,
                                   self.stdout_path, self.stderr_path)
        wait_until(lambda: self.proc.poll() is not None or harness._can_connect(self.port), 10,
                   "llmgate-control to listen on %d" % self.port)
        if self.proc.poll() is not None:
            raise AssertionError("llmgate-control exited %d:\n%s" % (self.proc.returncode,
                                                                     self.logs()))
        return self

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGCONT)
            harness._stop(self.proc, grace=10.0)

    def kill(self):
        """SIGKILL: the control plane vanishes without a goodbye."""
        self.proc.kill()
        self.proc.wait(5)

    def ctl(self, *args, check=True):
        env = dict(os.environ, LLMGATE_ADMIN_TOKEN=ADMIN_TOKEN)
        out = subprocess.run([binary("llmgatectl"), "--server", "127.0.0.1:%d" % self.port,
                              "--json"] + list(args), env=env, capture_output=True, text=True,
                             timeout=20)
        if check and out.returncode != 0:
            raise AssertionError("llmgatectl %s: exit %d: %s" % (" ".join(args), out.returncode,
                                                                out.stderr))
        return json.loads(out.stdout) if out.stdout.strip().startswith("{") else out.stdout

    def nodes(self):
        """node id -> NodeStatus (as `llmgatectl --json status` prints it)."""
        return {n["node"]["id"]: n for n in self.ctl("status").get("nodes", [])}

    def target(self, model):
        for t in self.ctl("targets").get("targets", []):
            if t.get("model") == model:
                return t
        return None

    def overrides(self):
        table = self.ctl("routes")
        return table.get("snapshot", table).get("overrides", [])

    def logs(self):
        return harness._read_text(self.stdout_path) + harness._read_text(self.stderr_path)
