"""The manifests and the injection webhook fit together: llmgate-control, on
the shipped config, gets the AdmissionReview the API server would send for a
pod of overlays/example-app (rendered with `kubectl kustomize`), over HTTPS
verified against the CA of scripts/webhook-selfsigned-cert.sh with the
Service's DNS name; its JSON Patch, applied, must give a Pod that

- validates strictly against the Kubernetes schema (validate.mjs --objects),
- meets the "restricted" Pod Security Standard that the example namespace
  enforces (every container, the sidecar included),
- mounts the sidecar ConfigMap the overlay renders, at the path the sidecar's
  --config names, with the config's cache_file on a writable mount,
- exposes the port the PodMonitor scrapes (llmgate-admin) and carries the
  prometheus.io annotations,
- gets the sidecar Secret as envFrom (optional) and, with exactly the
  environment the patched pod gives the sidecar (env + the keys of
  overlays/example-app/sidecar-secrets.example.yaml), its config passes
  `llmgate --check-config`,
- has a terminationGracePeriodSeconds holding preStop + drain_timeout + 2 s
  (raised when the pod had less or none, kept when it had more),
- and is left alone when sent again.
Both sidecar modes (native, container) are checked.

Skipped (exit 77) when this build's llmgate-control serves no webhook.
Checked passing against the webhook branch's llmgate-control (hook, 7eba182).
"""
import base64
import copy
import json
import os
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import uuid

import yaml

from shipped_control import HERE, REPO, ShippedControlPlane, harness, port_open

KUBECTL = os.environ.get("KUBECTL", "kubectl")
SERVICE_HOST = "llmgate-control.llmgate-system.svc"


def render(overlay):
    out = subprocess.run([KUBECTL, "kustomize", os.path.join(REPO, "deploy", "k8s", "overlays", overlay)],
                         check=True, capture_output=True, text=True).stdout
    return [o for o in yaml.safe_load_all(out) if o]


def unescape(token):
    return token.replace("~1", "/").replace("~0", "~")


def apply_patch(doc, patch):
    """RFC 6902 add/remove/replace (what a mutating webhook may send)."""
    doc = copy.deepcopy(doc)
    for op in patch:
        parts = [unescape(p) for p in op["path"].split("/")[1:]]
        parent = doc
        for p in parts[:-1]:
            parent = parent[int(p)] if isinstance(parent, list) else parent[p]
        last = parts[-1]
        if op["op"] == "add":
            if isinstance(parent, list):
                parent.insert(len(parent) if last == "-" else int(last), op["value"])
            else:
                parent[last] = op["value"]
        elif op["op"] == "replace":
            parent[int(last) if isinstance(parent, list) else last] = op["value"]
        elif op["op"] == "remove":
            del parent[int(last) if isinstance(parent, list) else last]
        else:
            raise AssertionError("unexpected patch operation %r" % op)
    return doc


class Injection(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        objs = render("example-app")
        cls.deployment = next(o for o in objs if o["kind"] == "Deployment")
        cls.configmap = next(o for o in objs if o["kind"] == "ConfigMap")
        cls.namespace = next(o for o in objs if o["kind"] == "Namespace")
        monitoring = render("cert-manager")
        cls.podmonitor = next(o for o in monitoring if o["kind"] == "PodMonitor")
        with open(os.path.join(REPO, "deploy", "k8s", "overlays", "example-app",
                               "sidecar-secrets.example.yaml"), encoding="utf-8") as f:
            cls.sidecar_secret = yaml.safe_load(f)
        cls.control = ShippedControlPlane()
        cls.control.start({"LLMGATE_NODE_TOKEN": "deploy-test-node-token"})
        deadline = time.monotonic() + 5
        while not port_open(cls.control.webhook_port) and time.monotonic() < deadline:
            time.sleep(0.05)
        if not port_open(cls.control.webhook_port):
            cls.control.close()
            print("SKIP: this llmgate-control serves no injection webhook (webhook_listen)", flush=True)
            sys.exit(77)

    @classmethod
    def tearDownClass(cls):
        status = cls.control.stop()
        logs = cls.control.logs()
        cls.control.close()
        assert status == 0, "llmgate-control exit %s: %s" % (status, logs)

    def pod(self, mode=None):
        template = copy.deepcopy(self.deployment["spec"]["template"])
        meta = template["metadata"]
        if mode:
            meta.setdefault("annotations", {})["llmgate.io/sidecar-mode"] = mode
        meta.update({"generateName": "chat-client-", "namespace": self.deployment["metadata"]["namespace"]})
        return {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": template["spec"]}

    def review(self, pod):
        body = json.dumps({
            "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
            "request": {
                "uid": str(uuid.uuid4()),
                "kind": {"group": "", "version": "v1", "kind": "Pod"},
                "resource": {"group": "", "version": "v1", "resource": "pods"},
                "requestKind": {"group": "", "version": "v1", "kind": "Pod"},
                "requestResource": {"group": "", "version": "v1", "resource": "pods"},
                "namespace": pod["metadata"]["namespace"], "operation": "CREATE",
                "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller"},
                "object": pod, "oldObject": None, "dryRun": False,
                "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"},
            },
        }).encode()
        # As the API server does: trust only the caBundle, verify the Service's name.
        ctx = ssl.create_default_context(cafile=self.control.ca_file)
        with socket.create_connection((harness.HOST, self.control.webhook_port), timeout=10) as raw, \
                ctx.wrap_socket(raw, server_hostname=SERVICE_HOST) as s:
            s.sendall(b"POST /mutate?timeout=5s HTTP/1.1\r\nHost: %s:8443\r\n"
                      b"Content-Type: application/json\r\nAccept: application/json\r\n"
                      b"Content-Length: %d\r\nConnection: close\r\n\r\n" % (SERVICE_HOST.encode(), len(body)) + body)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = s.recv(65536)
                self.assertTrue(chunk, "connection closed before the response head: %r" % data)
                data += chunk
            head, _, payload = data.partition(b"\r\n\r\n")
            self.assertIn(b" 200 ", head.split(b"\r\n")[0], head)
            headers = dict(l.split(b":", 1) for l in head.split(b"\r\n")[1:])
            headers = {k.strip().lower(): v.strip() for k, v in headers.items()}
            self.assertIn(b"content-length", headers, "chunked webhook answers are not handled by this test")
            while len(payload) < int(headers[b"content-length"]):
                chunk = s.recv(65536)
                self.assertTrue(chunk, "connection closed inside the body")
                payload += chunk
        answer = json.loads(payload)
        self.assertTrue(answer["response"]["allowed"])
        return answer["response"]

    def validate_schema(self, pod):
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
            json.dump(pod, f)
        try:
            r = subprocess.run(["node", os.path.join(HERE, "validate.mjs"), "--objects", f.name],
                               capture_output=True, text=True, timeout=60)
        finally:
            os.unlink(f.name)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def check_restricted(self, pod):
        """The Pod Security Standard "restricted" (v1.2x) on every container."""
        spec = pod["spec"]
        psc = spec.get("securityContext", {})
        for c in spec.get("initContainers", []) + spec["containers"]:
            sc = c.get("securityContext", {})
            where = "container %s" % c["name"]
            self.assertIs(sc.get("allowPrivilegeEscalation"), False, where)
            self.assertIn("ALL", sc.get("capabilities", {}).get("drop", []), where)
            self.assertFalse(set(sc.get("capabilities", {}).get("add", [])) - {"NET_BIND_SERVICE"}, where)
            self.assertTrue(sc.get("runAsNonRoot", psc.get("runAsNonRoot")), where)
            self.assertNotEqual(sc.get("runAsUser", psc.get("runAsUser")), 0, where)
            seccomp = sc.get("seccompProfile", psc.get("seccompProfile", {})).get("type")
            self.assertIn(seccomp, ("RuntimeDefault", "Localhost"), where)
            self.assertFalse(sc.get("privileged", False), where)
        for v in spec.get("volumes", []):
            self.assertNotIn("hostPath", v)

    def check_injected(self, original, mode):
        answer = self.review(original)
        self.assertEqual(answer.get("patchType"), "JSONPatch", answer)
        pod = apply_patch(original, json.loads(base64.b64decode(answer["patch"])))
        self.validate_schema(pod)
        self.assertEqual(self.namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], "restricted")
        self.check_restricted(pod)

        spec = pod["spec"]
        where = spec.get("initContainers", []) if mode == "native" else spec["containers"]
        sidecars = [c for c in where if c["name"] == "llmgate"]
        self.assertEqual(len(sidecars), 1, where)
        sidecar = sidecars[0]
        if mode == "native":
            self.assertEqual(sidecar.get("restartPolicy"), "Always")
        self.assertEqual(spec["containers"][0], original["spec"]["containers"][0])  # app untouched
        # The ConfigMap the overlay renders, at the path --config names.
        volumes = {v["name"]: v for v in spec["volumes"]}
        mounts = {m["mountPath"]: m for m in sidecar["volumeMounts"]}
        config_path = sidecar["args"][sidecar["args"].index("--config") + 1]
        mount = mounts[os.path.dirname(config_path)]
        self.assertEqual(volumes[mount["name"]]["configMap"]["name"], self.configmap["metadata"]["name"])
        self.assertIn(os.path.basename(config_path), self.configmap["data"])
        sidecar_config = yaml.safe_load(self.configmap["data"][os.path.basename(config_path)])
        cache_dir = os.path.dirname(sidecar_config["control_plane"]["cache_file"])
        self.assertIn(cache_dir, mounts)
        self.assertFalse(mounts[cache_dir].get("readOnly", False))
        # POD_NAME for control_plane.node_id_env.
        env = {e["name"]: e for e in sidecar.get("env", [])}
        self.assertEqual(env[sidecar_config["control_plane"]["node_id_env"]]["valueFrom"]["fieldRef"]["fieldPath"],
                         "metadata.name")
        # Ports and probes against the sidecar config's listeners.
        ports = {p["name"]: p["containerPort"] for p in sidecar["ports"]}
        admin_port = int(sidecar_config["server"]["admin_listen"].rsplit(":", 1)[1])
        scraped = self.podmonitor["spec"]["podMetricsEndpoints"][0]["port"]
        self.assertEqual(ports[scraped], admin_port)
        for probe in ("livenessProbe", "readinessProbe"):
            self.assertEqual(sidecar[probe]["httpGet"]["port"], admin_port)
        app_port = int(sidecar_config["server"]["listen"].rsplit(":", 1)[1])
        app_env = {e["name"]: e.get("value") for e in spec["containers"][0].get("env", [])}
        self.assertEqual(app_env["OPENAI_BASE_URL"], "http://127.0.0.1:%d/v1" % app_port)
        annotations = pod["metadata"]["annotations"]
        self.assertEqual(annotations.get("prometheus.io/port"), str(admin_port))
        self.assertEqual(annotations.get("llmgate.io/injected"), "true")
        # Graceful stop fits the pod's grace period: preStop sleep + drain + ~2 s.
        sleep = int(sidecar["lifecycle"]["preStop"]["exec"]["command"][-1].split()[-1])
        drain = int(str(sidecar_config["server"].get("drain_timeout", "30s")).rstrip("s"))
        self.assertLessEqual(sleep + drain + 2, spec["terminationGracePeriodSeconds"])
        self.assertGreaterEqual(spec["terminationGracePeriodSeconds"],
                                original["spec"].get("terminationGracePeriodSeconds") or 0)
        # The sidecar's Secret: envFrom, optional, the example's name; with
        # the environment the pod gives it, the mounted config loads.
        self.assertEqual(sidecar["envFrom"], [{"secretRef": {"name": self.sidecar_secret["metadata"]["name"],
                                                             "optional": True}}])
        self.assertEqual(self.sidecar_secret["metadata"]["namespace"], original["metadata"]["namespace"])
        self.check_config_with_pod_env(sidecar, os.path.basename(config_path))
        # Sent again (reinvocation): nothing changes.
        again = self.review(pod)
        self.assertFalse(again.get("patch"), again)

    def check_config_with_pod_env(self, sidecar, key):
        env = {"PATH": os.environ.get("PATH", "")}
        for e in sidecar.get("env", []):
            env[e["name"]] = e.get("value", "from-%s" % e["name"].lower())  # fieldRef: any value
        for source in sidecar.get("envFrom", []):
            self.assertEqual(source["secretRef"]["name"], self.sidecar_secret["metadata"]["name"])
            env.update({k: str(v) for k, v in self.sidecar_secret["stringData"].items()})
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, key)
            with open(path, "w", encoding="utf-8") as f:
                f.write(self.configmap["data"][key])
            r = subprocess.run([harness.binary("llmgate"), "--check-config", path],
                               capture_output=True, text=True, timeout=15, env=env)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_grace_period_is_raised_or_kept(self):
        wanted = int(str(self.control.shipped["injection"]["termination_grace_period"]).rstrip("s"))
        for before, after in ((None, wanted), (10, wanted), (wanted, wanted), (300, 300)):
            with self.subTest(before=before):
                pod = self.pod()
                if before is None:
                    del pod["spec"]["terminationGracePeriodSeconds"]
                else:
                    pod["spec"]["terminationGracePeriodSeconds"] = before
                answer = self.review(pod)
                patched = apply_patch(pod, json.loads(base64.b64decode(answer["patch"])))
                self.assertEqual(patched["spec"]["terminationGracePeriodSeconds"], after)

    def test_native_sidecar(self):
        self.check_injected(self.pod(), "native")

    def test_container_mode(self):
        self.check_injected(self.pod("container"), "container")

    def test_pod_without_the_annotation_is_left_alone(self):
        pod = self.pod()
        del pod["metadata"]["annotations"]["llmgate.io/inject"]
        self.assertFalse(self.review(pod).get("patch"))


if __name__ == "__main__":
    unittest.main()
