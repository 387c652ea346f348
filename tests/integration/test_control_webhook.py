"""llmgate-control's HTTPS injection webhook, HTTP admin listener and gRPC
mTLS, with real processes: certificates come from the `openssl` CLI into a
temp folder, every AdmissionReview fixture of tests/data/admission/ is POSTed
to /mutate over HTTPS (verified against the generated CA), each returned patch
is applied (RFC 6902, below) and the pod checked; /metrics must count what was
sent; llmgatectl without a client certificate is refused (docs/KUBERNETES.md,
docs/CONTROL_PLANE.md)."""
import base64
import copy
import http.client
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import unittest

from harness import (REPO, HOST, _keep_temp_dir, _make_temp_dir, _read_text, _start, _stop,
                     _tail, binary, free_port, request, wait_until, CRASH_MARKERS)

FIXTURES = os.path.join(REPO, "tests", "data", "admission")
ADMIN_TOKEN = "it-admin-token-5f2c9a"

# Expected outcome per fixture (malformed_* are all "malformed").
EXPECTED = {
    "plain_pod.json": "skipped",
    "not_annotated_false.json": "skipped",
    "update_operation.json": "skipped",
    "not_a_pod.json": "skipped",
    "already_injected_pod.json": "already_injected",
    "llmgate_container_present.json": "already_injected",
    "annotated_pod.json": "injected",
    "annotated_no_volumes.json": "injected",
    "existing_init_and_volumes.json": "injected",
    "empty_arrays.json": "injected",
    "null_arrays.json": "injected",
    "container_mode.json": "injected",
    "annotation_overrides.json": "injected",
    "volume_name_taken.json": "injected",
    "grace_period_absent.json": "injected",
    "grace_period_null.json": "injected",
    "grace_period_longer.json": "injected",
}


def expected_outcome(name):
    return "malformed" if name.startswith("malformed_") else EXPECTED[name]


# --- RFC 6902 (add, replace, remove; ~0 ~1 escapes; "-") -----------------------

def _tokens(pointer):
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError("pointer %r does not start with /" % pointer)
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


def apply_patch(document, ops):
    doc = copy.deepcopy(document)
    for op in ops:
        tokens = _tokens(op["path"])
        parent = doc
        for token in tokens[:-1]:
            parent = parent[int(token)] if isinstance(parent, list) else parent[token]
        last = tokens[-1]
        if isinstance(parent, list):
            if op["op"] == "add":
                index = len(parent) if last == "-" else int(last)
                if index > len(parent):
                    raise IndexError(op["path"])
                parent.insert(index, copy.deepcopy(op["value"]))
            elif op["op"] == "replace":
                parent[int(last)] = copy.deepcopy(op["value"])
            elif op["op"] == "remove":
                del parent[int(last)]
            else:
                raise ValueError(op)
        elif isinstance(parent, dict):
            if op["op"] in ("replace", "remove") and last not in parent:
                raise KeyError(op["path"])
            if op["op"] == "remove":
                del parent[last]
            elif op["op"] in ("add", "replace"):
                parent[last] = copy.deepcopy(op["value"])
            else:
                raise ValueError(op)
        else:
            raise ValueError("parent of %s is not a container" % op["path"])
    return doc


# --- certificates -------------------------------------------------------------

def _openssl(*args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True)


def make_ca(folder, name):
    key, crt = os.path.join(folder, name + ".key"), os.path.join(folder, name + ".crt")
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
             "/CN=%s" % name, "-keyout", key, "-out", crt)
    return crt, key


def make_cert(folder, name, ca, san=None):
    key, csr, crt = (os.path.join(folder, name + ext) for ext in (".key", ".csr", ".crt"))
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=%s" % name, "-keyout", key,
             "-out", csr)
    args = ["x509", "-req", "-in", csr, "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial",
            "-days", "1", "-out", crt]
    if san:
        ext = os.path.join(folder, name + ".ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=%s\n" % san)
        args += ["-extfile", ext]
    _openssl(*args)
    return crt, key


CONFIG = """\
listen: "127.0.0.1:{grpc}"
admin_listen: "127.0.0.1:{admin}"
webhook_listen: "127.0.0.1:{webhook}"
tls: {{ca_file: ca.crt, cert_file: server.crt, key_file: server.key}}
webhook_tls: {{cert_file: webhook.crt, key_file: webhook.key}}
evaluate_every: 1s
injection:
  image: registry.local/llmgate:it
  control_address: "llmgate-control.llmgate-system.svc:50051"
  secret_name: it-sidecar-secrets
  termination_grace_period: 45s
"""


@unittest.skipUnless(shutil.which("openssl"), "openssl is not installed")
class ControlWebhookTest(unittest.TestCase):
    maxDiff = 4000

    @classmethod
    def setUpClass(cls):
        cls.dir = _make_temp_dir("llmgate-control-it-")
        cls.ca = make_ca(cls.dir, "ca")
        make_cert(cls.dir, "server", cls.ca, san="DNS:localhost,IP:127.0.0.1")
        make_cert(cls.dir, "webhook", cls.ca, san="DNS:localhost,IP:127.0.0.1")
        cls.client = make_cert(cls.dir, "client", cls.ca)
        other_ca = make_ca(cls.dir, "other-ca")
        cls.stranger = make_cert(cls.dir, "stranger", other_ca)
        cls.stdout_path = os.path.join(cls.dir, "stdout.log")
        cls.stderr_path = os.path.join(cls.dir, "stderr.log")
        for attempt in range(3):
            cls.grpc_port, cls.admin_port, cls.webhook_port = free_port(), free_port(), free_port()
            with open(os.path.join(cls.dir, "control.yaml"), "w") as f:
                f.write(CONFIG.format(grpc=cls.grpc_port, admin=cls.admin_port,
                                      webhook=cls.webhook_port))
            env = dict(os.environ, LLMGATE_ADMIN_TOKEN=ADMIN_TOKEN)
            cls.proc = _start([binary("llmgate-control"), "--config",
                               os.path.join(cls.dir, "control.yaml")],
                              env, cls.stdout_path, cls.stderr_path)
            try:
                wait_until(cls._ready, 15, "llmgate-control /readyz on 127.0.0.1:%d"
                           % cls.admin_port)
                break
            except AssertionError:
                _stop(cls.proc)
                if attempt == 2 or "in use" not in cls.logs():
                    _keep_temp_dir(cls.dir)
                    raise AssertionError("llmgate-control did not start; logs:\n%s"
                                         % _tail(cls.logs()))
        cls.tls = ssl.create_default_context(cafile=cls.ca[0])

    @classmethod
    def _ready(cls):
        if cls.proc.poll() is not None:
            raise AssertionError("llmgate-control exited with %s" % cls.proc.returncode)
        try:
            return request(cls.admin_port, "GET", "/readyz", timeout=2).status == 200
        except OSError:
            return False

    @classmethod
    def logs(cls):
        return _read_text(cls.stdout_path) + _read_text(cls.stderr_path)

    @classmethod
    def tearDownClass(cls):
        code, killed = _stop(cls.proc, grace=10)
        logs = cls.logs()
        problems = []
        if killed or code != 0:
            problems.append("exit %s after SIGTERM (killed: %s)" % (code, killed))
        problems += ["crash marker %r" % m for m in CRASH_MARKERS if m in logs]
        # No pod content and no secret reaches the log.
        for leak in ("registry.example.com", "DB_PASSWORD", ADMIN_TOKEN, "PRIVATE KEY"):
            if leak in logs:
                problems.append("log contains %r" % leak)
        if problems:
            _keep_temp_dir(cls.dir)
            raise AssertionError("; ".join(problems) + "; logs:\n" + _tail(logs))

    def setUp(self):
        self.assertIsNone(self.proc.poll(), "llmgate-control died; logs:\n%s" % _tail(self.logs()))

    # --- helpers ---

    def https(self, method, path, body=None, headers=None, context=None):
        conn = http.client.HTTPSConnection(HOST, self.webhook_port, timeout=10,
                                           context=context or self.tls)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            return resp.status, dict(resp.getheaders()), resp.read()
        finally:
            conn.close()

    def mutate(self, body):
        status, headers, data = self.https("POST", "/mutate?timeout=10s", body=body,
                                           headers={"Content-Type": "application/json"})
        self.assertEqual(status, 200, data[:300])
        self.assertIn("application/json", headers.get("Content-Type", ""))
        review = json.loads(data)
        self.assertEqual(review["apiVersion"], "admission.k8s.io/v1")
        self.assertEqual(review["kind"], "AdmissionReview")
        self.assertIs(review["response"]["allowed"], True)
        return review["response"]

    def metric(self, name, labels=""):
        text = request(self.admin_port, "GET", "/metrics", timeout=5).body.decode()
        pattern = r"^%s%s (\S+)$" % (re.escape(name), re.escape(labels))
        m = re.search(pattern, text, re.M)
        self.assertIsNotNone(m, "%s%s not in /metrics:\n%s" % (name, labels, text[:2000]))
        return float(m.group(1))

    def ctl(self, *args):
        env = dict(os.environ, LLMGATE_ADMIN_TOKEN=ADMIN_TOKEN)
        return subprocess.run([binary("llmgatectl"), "--server", "127.0.0.1:%d" % self.grpc_port]
                              + list(args) + ["status"],
                              env=env, capture_output=True, text=True, timeout=30)

    # --- the webhook ---

    def test_every_fixture_gets_the_expected_answer(self):
        names = sorted(os.listdir(FIXTURES))
        self.assertGreaterEqual(len(names), 30)
        outcomes = ("injected", "skipped", "already_injected", "malformed")
        before = {o: self.metric("llmgate_control_webhook_admissions_total", '{result="%s"}' % o)
                  for o in outcomes}
        sent = dict.fromkeys(outcomes, 0)
        for name in names:
            with self.subTest(fixture=name):
                with open(os.path.join(FIXTURES, name), "rb") as f:
                    body = f.read()
                response = self.mutate(body)
                outcome = expected_outcome(name)
                sent[outcome] += 1
                try:
                    uid = json.loads(body)["request"]["uid"]
                except Exception:  # noqa: BLE001 - unreadable: the answer's uid is ""
                    uid = None
                if isinstance(uid, str) and outcome != "malformed":
                    self.assertEqual(response["uid"], uid)
                if outcome != "injected":
                    self.assertNotIn("patch", response)
                    self.assertNotIn("patchType", response)
                    continue
                self.assertEqual(response["patchType"], "JSONPatch")
                pod = json.loads(body)["request"]["object"]
                patched = apply_patch(pod, json.loads(base64.b64decode(response["patch"])))
                self.check_injected(name, pod, patched)
        for outcome in outcomes:
            self.assertEqual(
                self.metric("llmgate_control_webhook_admissions_total",
                            '{result="%s"}' % outcome) - before[outcome], sent[outcome], outcome)
        self.assertIn("malformed AdmissionReview", self.logs())

    def check_injected(self, name, pod, patched):
        spec = patched["spec"]
        native = "container_mode" not in name
        init = spec.get("initContainers") or []
        containers = spec["containers"]
        found = [c for c in init + containers if c["name"] == "llmgate"]
        self.assertEqual(len(found), 1, name)
        sidecar = found[0]
        if native:
            self.assertEqual(init[-1]["name"], "llmgate")
            self.assertEqual(sidecar["restartPolicy"], "Always")
            self.assertEqual(containers, pod["spec"]["containers"])
        else:
            self.assertEqual(containers[:-1], pod["spec"]["containers"])
            self.assertNotIn("restartPolicy", sidecar)
        self.assertEqual(sidecar["image"], "registry.local/llmgate:it")
        volumes = {v["name"]: v for v in spec["volumes"]}
        mount = [m for m in sidecar["volumeMounts"] if m["mountPath"] == "/etc/llmgate"][0]
        self.assertTrue(mount["readOnly"])
        self.assertEqual(volumes[mount["name"]]["configMap"]["name"], "llmgate-sidecar-config")
        env = {e["name"]: e for e in sidecar["env"]}
        self.assertEqual(env["POD_NAME"]["valueFrom"]["fieldRef"]["fieldPath"], "metadata.name")
        self.assertEqual(env["LLMGATE_CONTROL_ADDRESS"]["value"],
                         "llmgate-control.llmgate-system.svc:50051")
        self.assertEqual(sidecar["livenessProbe"]["httpGet"], {"path": "/healthz", "port": 9901,
                                                               "scheme": "HTTP"})
        self.assertEqual(sidecar["readinessProbe"]["httpGet"]["path"], "/readyz")
        self.assertIn("preStop", sidecar["lifecycle"])
        self.assertEqual(sidecar["envFrom"],
                         [{"secretRef": {"name": "it-sidecar-secrets", "optional": True}}])
        # Raised to the config's 45 s when absent, null or lower; never lowered.
        before = pod["spec"].get("terminationGracePeriodSeconds")
        self.assertEqual(spec["terminationGracePeriodSeconds"], max(before or 0, 45), name)
        annotations = patched["metadata"]["annotations"]
        self.assertEqual(annotations["llmgate.io/injected"], "true")
        for key, value in pod["metadata"]["annotations"].items():
            self.assertEqual(annotations[key], value)
        if "prometheus.io/scrape" not in pod["metadata"]["annotations"]:
            self.assertEqual(annotations["prometheus.io/port"], "9901")

    def test_only_post_mutate(self):
        status, headers, _ = self.https("GET", "/mutate")
        self.assertEqual(status, 405)
        self.assertEqual(headers.get("Allow"), "POST")
        status, _, _ = self.https("POST", "/validate", body=b"{}")
        self.assertEqual(status, 404)

    def test_oversized_body_is_413(self):
        # The declared length alone (5 MiB > the 4 MiB limit) gets the 413.
        with socket.create_connection((HOST, self.webhook_port), timeout=10) as raw:
            with self.tls.wrap_socket(raw, server_hostname=HOST) as s:
                s.sendall(b"POST /mutate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
                          b"\r\nContent-Length: %d\r\n\r\n{\"kind\": " % (5 << 20))
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    data += chunk
        self.assertTrue(data.startswith(b"HTTP/1.1 413"), data[:200])

    def test_plain_http_and_unverified_clients_get_nothing(self):
        # Plain HTTP on the HTTPS port: no HTTP answer.
        with socket.create_connection((HOST, self.webhook_port), timeout=5) as s:
            s.sendall(b"POST /mutate HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
            try:
                data = s.recv(4096)
            except (ConnectionResetError, socket.timeout):
                data = b""
            self.assertFalse(data.startswith(b"HTTP/"), data[:100])
        # A client that trusts only the system store refuses the certificate.
        with self.assertRaises(ssl.SSLError):
            self.https("POST", "/mutate", body=b"{}", context=ssl.create_default_context())
        # TLS 1.2 works (the floor).
        ctx = ssl.create_default_context(cafile=self.ca[0])
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        self.assertEqual(self.https("GET", "/mutate", context=ctx)[0], 405)

    def served_common_name(self):
        with socket.create_connection((HOST, self.webhook_port), timeout=5) as raw:
            with self.tls.wrap_socket(raw, server_hostname=HOST) as s:
                subject = dict(x[0] for x in s.getpeercert()["subject"])
                return subject["commonName"]

    def test_renewed_certificate_is_picked_up(self):
        self.assertEqual(self.served_common_name(), "webhook")
        # A renewal, written as cert-manager's Secret update lands: new files
        # (the key first: a moment of mismatch must be survived).
        staged = _make_temp_dir("llmgate-control-it-renew-")
        crt, key = make_cert(staged, "webhook-renewed", self.ca, san="IP:127.0.0.1")
        shutil.copy(key, os.path.join(self.dir, "webhook.key"))
        shutil.copy(crt, os.path.join(self.dir, "webhook.crt"))
        wait_until(lambda: self.served_common_name() == "webhook-renewed", 10,
                   "the webhook to serve the renewed certificate")
        self.assertIn("webhook_tls: new certificate", self.logs())
        # Still answers reviews.
        with open(os.path.join(FIXTURES, "annotated_pod.json"), "rb") as f:
            self.assertIn("patch", self.mutate(f.read()))

    def test_connections_are_not_leaked(self):
        def fds():
            return len(os.listdir("/proc/%d/fd" % self.proc.pid))
        with open(os.path.join(FIXTURES, "annotated_pod.json"), "rb") as f:
            body = f.read()
        self.mutate(body)
        baseline = fds()
        for i in range(60):
            # A full review, a TCP connection closed before the handshake, a
            # handshake abandoned half-way, and an admin scrape.
            self.mutate(body)
            socket.create_connection((HOST, self.webhook_port), timeout=5).close()
            with socket.create_connection((HOST, self.webhook_port), timeout=5) as raw:
                raw.sendall(b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00")
            request(self.admin_port, "GET", "/metrics", timeout=5)
        wait_until(lambda: fds() <= baseline + 2, 10,
                   "llmgate-control's open files to return to %d (now %d)" % (baseline, fds()))

    # --- the admin listener ---

    def test_admin_endpoints(self):
        self.assertEqual(request(self.admin_port, "GET", "/healthz").status, 200)
        ready = request(self.admin_port, "GET", "/readyz")
        self.assertEqual((ready.status, ready.body), (200, b"ready\n"))
        self.assertEqual(request(self.admin_port, "POST", "/metrics", body=b"").status, 405)
        self.assertEqual(request(self.admin_port, "GET", "/mutate").status, 404)
        resp = request(self.admin_port, "GET", "/metrics")
        self.assertEqual(resp.status, 200)
        self.assertIn("text/plain; version=0.0.4", resp.header("content-type"))
        text = resp.body.decode()
        for family in ("llmgate_control_connected_proxies", "llmgate_control_route_version",
                       "llmgate_control_acks_total", "llmgate_control_nacks_total",
                       "llmgate_control_decisions_total", "llmgate_control_auth_failures_total",
                       "llmgate_control_webhook_admissions_total"):
            self.assertRegex(text, r"(?m)^# TYPE %s (counter|gauge)$" % family)
        self.assertGreaterEqual(self.metric("llmgate_control_route_version"), 1)
        self.assertEqual(self.metric("llmgate_control_connected_proxies"), 0)
        self.assertNotIn(ADMIN_TOKEN, text)

    # --- gRPC mTLS ---

    def test_grpc_requires_a_client_certificate(self):
        plain = self.ctl()
        self.assertEqual(plain.returncode, 1, plain.stderr)
        no_cert = self.ctl("--ca-file", self.ca[0])
        self.assertEqual(no_cert.returncode, 1, no_cert.stderr)
        self.assertIn("unavailable", no_cert.stderr)
        stranger = self.ctl("--ca-file", self.ca[0], "--cert-file", self.stranger[0],
                            "--key-file", self.stranger[1])
        self.assertEqual(stranger.returncode, 1, stranger.stderr)
        good = self.ctl("--ca-file", self.ca[0], "--cert-file", self.client[0],
                        "--key-file", self.client[1])
        self.assertEqual(good.returncode, 0, good.stderr)
        self.assertIn("route table version", good.stdout)
        # The token is still checked behind mTLS.
        env = dict(os.environ, LLMGATE_ADMIN_TOKEN="wrong")
        wrong = subprocess.run([binary("llmgatectl"), "--server", "127.0.0.1:%d" % self.grpc_port,
                                "--ca-file", self.ca[0], "--cert-file", self.client[0],
                                "--key-file", self.client[1], "status"],
                               env=env, capture_output=True, text=True, timeout=30)
        self.assertEqual(wrong.returncode, 1)
        self.assertIn("unauthenticated", wrong.stderr)
        bad_flags = self.ctl("--cert-file", self.client[0])
        self.assertEqual(bad_flags.returncode, 2)


def _established_to(port):
    """True when some local TCP connection to port `port` is ESTABLISHED (gRPC
    uses IPv4-mapped IPv6 sockets: both tables are read)."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                remote, state = fields[2], fields[3]
                if state == "01" and int(remote.split(":")[1], 16) == port:
                    return True
    return False


class ControlDrainTest(unittest.TestCase):
    """SIGTERM: /readyz turns 503 "draining" while open streams get their
    grace period, then exit 0."""

    def test_readyz_is_503_while_draining(self):
        folder = _make_temp_dir("llmgate-control-it-drain-")
        grpc_port, admin_port = free_port(), free_port()
        path = os.path.join(folder, "control.yaml")
        with open(path, "w") as f:
            f.write('listen: "127.0.0.1:%d"\nadmin_listen: "127.0.0.1:%d"\n'
                    % (grpc_port, admin_port))
        env = dict(os.environ, LLMGATE_ADMIN_TOKEN=ADMIN_TOKEN)
        out, err = os.path.join(folder, "stdout.log"), os.path.join(folder, "stderr.log")
        proc = _start([binary("llmgate-control"), "--config", path], env, out, err)
        watch = None
        try:
            wait_until(lambda: request(admin_port, "GET", "/readyz", timeout=2).status == 200,
                       15, "llmgate-control /readyz")
            # An open WatchDecisions stream holds the gRPC shutdown for its grace.
            watch = subprocess.Popen([binary("llmgatectl"), "--server", "127.0.0.1:%d" % grpc_port,
                                      "watch"], env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
            wait_until(lambda: _established_to(grpc_port), 10, "llmgatectl watch to connect")
            os.kill(proc.pid, 15)
            seen = wait_until(
                lambda: (lambda r: r if r.status != 200 else None)(
                    request(admin_port, "GET", "/readyz", timeout=2)), 3,
                "/readyz to turn non-200 after SIGTERM")
            self.assertEqual((seen.status, seen.body), (503, b"draining\n"))
            self.assertEqual(request(admin_port, "GET", "/healthz", timeout=2).status, 200)
            proc.wait(timeout=15)
            self.assertEqual(proc.returncode, 0)
        finally:
            if watch is not None:
                watch.kill()
                watch.wait(5)
            _stop(proc)


class ControlStartupTest(unittest.TestCase):
    """Bad TLS files are refused at start with the key path, never the content."""

    def test_missing_and_mismatched_files(self):
        folder = _make_temp_dir("llmgate-control-it-bad-")
        ca = make_ca(folder, "ca")
        cert, key = make_cert(folder, "server", ca, san="IP:127.0.0.1")
        other_cert, _ = make_cert(folder, "other", ca)
        cases = [
            ("webhook_tls: {cert_file: nope.crt, key_file: %s}" % key,
             "webhook_tls.cert_file %s/nope.crt" % folder),
            ("webhook_tls: {cert_file: %s, key_file: %s}" % (other_cert, key),
             "webhook_tls.key_file: does not match cert_file"),
            ("tls: {ca_file: missing-ca.crt, cert_file: %s, key_file: %s}" % (cert, key),
             "tls.ca_file %s/missing-ca.crt" % folder),
        ]
        for extra, message in cases:
            with self.subTest(extra=extra):
                path = os.path.join(folder, "control.yaml")
                with open(path, "w") as f:
                    f.write('listen: "127.0.0.1:0"\nadmin_listen: "127.0.0.1:%d"\n%s\n'
                            % (free_port(), extra))
                run = subprocess.run([binary("llmgate-control"), "--config", path],
                                     capture_output=True, text=True, timeout=30)
                self.assertEqual(run.returncode, 1, run.stdout + run.stderr)
                self.assertIn(message, run.stderr)
                self.assertNotIn("PRIVATE KEY", run.stdout + run.stderr)


if __name__ == "__main__":
    unittest.main()
