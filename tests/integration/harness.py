"""Integration-test harness: real `fakellm` and `llmgate` processes on 127.0.0.1.

Standard library only. Binaries come from $LLMGATE_BIN_DIR (default
<repo>/build/bin). Every wait has a timeout and says what it waited for.

Pieces:
- free_port(): a loopback port nobody listens on right now.
- FakeLLM: starts `fakellm --listen 127.0.0.1:0`, parses the printed port,
  reads /_fakellm/stats, stops by PID (SIGTERM, then SIGKILL after 5 s).
- Llmgate: renders a YAML config template (@PORT@, @APORT@, @FPORT@, @DEADPORT@: a
  port that refuses connections, see refused_port),
  sets env vars (a canary provider key in FAKE_KEY), starts `llmgate --config`,
  waits for /readyz, captures stdout/stderr to files, and on stop() checks the
  process is still alive and healthy, exits 0 on SIGTERM and logged no crash.
- RawConn / request(): exact bytes over a socket, a full HTTP/1.1 response
  reader (Content-Length, chunked, until-close), connection-closed probes.
- SSE reading with the arrival time of every event.
"""

import atexit
import ctypes
import errno
import json
import os
import re
import secrets
import select
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import weakref

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN_DIR = os.environ.get("LLMGATE_BIN_DIR", os.path.join(REPO, "build", "bin"))
HOST = "127.0.0.1"

# A finished llmgate must not have printed any of these.
CRASH_MARKERS = (
    "AddressSanitizer",
    "LeakSanitizer",
    "ThreadSanitizer",
    "UndefinedBehaviorSanitizer",
    "runtime error:",
    "terminate called",
    "Segmentation fault",
    "Aborted (core dumped)",
    "stack smashing detected",
    "double free",
)


def binary(name):
    path = os.path.join(BIN_DIR, name)
    if not os.access(path, os.X_OK):
        # A missing binary is a failure, not a skip: CTest must not report green.
        raise AssertionError("binary %s not found or not executable (set LLMGATE_BIN_DIR to "
                             "<build>/bin and build the `%s` target)" % (path, name))
    return path


def free_port():
    """A loopback TCP port that was free a moment ago (bind to 0, read, close)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def refused_port(owner):
    """A loopback TCP port that refuses connections and that no other process can
    take while `owner` lives: a socket bound to it that never listens. (A port from
    free_port() left unbound was once handed to a parallel test's listener, which
    then answered where a dead provider was expected.) bind(0) and connect() skip a
    port that a socket holds; the socket closes when `owner` is collected."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((HOST, 0))
    weakref.finalize(owner, sock.close)
    return sock.getsockname()[1]


def redis_cli(port, *args):
    """redis-cli -p PORT ARGS...: its stdout, stripped ("" when it cannot connect)."""
    return subprocess.run(["redis-cli", "-p", str(port)] + list(args), capture_output=True,
                          text=True, timeout=10).stdout.strip()


def canary(kind):
    return "sk-canary-%s-%s" % (kind, secrets.token_hex(12))


def wait_until(predicate, timeout, what, interval=0.05):
    """Polls predicate() until it returns a truthy value; raises naming `what` on timeout."""
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = predicate()
            if value:
                return value
        except Exception as exc:  # noqa: BLE001 - reported in the message below
            last_exc = exc
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1fs waiting for %s (last error: %r)" %
                                 (timeout, what, last_exc))
        time.sleep(interval)


# ---------------------------------------------------------------------------
# Processes

_LIVE = []  # Popen objects to kill if the test process exits early.


def _kill_leftovers():
    for proc in list(_LIVE):
        if proc.poll() is None:
            try:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                pass


atexit.register(_kill_leftovers)

# Temp folders (configs, captured logs) are removed at exit unless a process in
# them misbehaved or LLMGATE_IT_KEEP=1 is set.
_TEMP_DIRS = {}


def _make_temp_dir(prefix):
    path = tempfile.mkdtemp(prefix=prefix)
    _TEMP_DIRS[path] = False
    return path


def _keep_temp_dir(path):
    _TEMP_DIRS[path] = True


def _remove_temp_dirs():
    import shutil
    _kill_leftovers()
    if os.environ.get("LLMGATE_IT_KEEP"):
        return
    for path, keep in _TEMP_DIRS.items():
        if keep:
            print("harness: kept %s for inspection" % path)
        else:
            shutil.rmtree(path, ignore_errors=True)


atexit.register(_remove_temp_dirs)

_libc = None


def _die_with_parent():
    # Runs in the child before exec: SIGKILL it if the test runner dies (ctest timeout).
    global _libc
    try:
        if _libc is None:
            _libc = ctypes.CDLL(None, use_errno=True)
        _libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort
        pass


def _start(argv, env, stdout_path, stderr_path):
    out = open(stdout_path, "wb")
    err = open(stderr_path, "wb")
    try:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                preexec_fn=_die_with_parent)
    finally:
        out.close()
        err.close()
    _LIVE.append(proc)
    return proc


def _stop(proc, grace=5.0):
    """SIGTERM by PID, SIGKILL after `grace` seconds. Returns (returncode, killed)."""
    if proc.poll() is not None:
        return proc.returncode, False
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
        return proc.returncode, False
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)
        return proc.returncode, True
    finally:
        if proc in _LIVE:
            _LIVE.remove(proc)


def _read_text(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except FileNotFoundError:
        return ""


def _tail(text, n=30):
    return "\n".join(text.splitlines()[-n:])


class FakeLLM:
    """The fake provider. Use as a context manager or call start()/stop()."""

    def __init__(self, *args, env=None):
        self.args = list(args)
        self.env = env or {}
        self.dir = _make_temp_dir("fakellm-")
        self.stdout_path = os.path.join(self.dir, "stdout.log")
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        self.proc = None
        self.port = None

    def start(self, timeout=10.0):
        env = dict(os.environ)
        env.update(self.env)
        argv = [binary("fakellm"), "--listen", "%s:0" % HOST] + self.args
        self.proc = _start(argv, env, self.stdout_path, self.stderr_path)
        pattern = re.compile(r"^fakellm listening on 127\.0\.0\.1:(\d+)$", re.M)

        def listening():
            if self.proc.poll() is not None:
                raise AssertionError("fakellm exited with %s before printing its port; stderr:\n%s"
                                     % (self.proc.returncode, _tail(_read_text(self.stderr_path))))
            m = pattern.search(_read_text(self.stdout_path))
            return int(m.group(1)) if m else None

        try:
            self.port = wait_until(listening, timeout,
                                   "fakellm to print 'fakellm listening on 127.0.0.1:<port>' on stdout")
        except AssertionError:
            self.stop()
            raise
        return self

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def assert_alive(self):
        if not self.alive():
            raise AssertionError("fakellm died (exit code %s); stderr:\n%s"
                                 % (self.proc.returncode, _tail(_read_text(self.stderr_path))))

    def restart(self, timeout=10.0):
        self.stop()
        for path in (self.stdout_path, self.stderr_path):
            if os.path.exists(path):
                os.rename(path, path + ".old")
        return self.start(timeout)

    @property
    def base(self):
        return "http://%s:%d" % (HOST, self.port)

    def stats(self):
        resp = request(self.port, "GET", "/_fakellm/stats", timeout=5)
        if resp.status != 200:
            raise AssertionError("GET /_fakellm/stats answered %d: %r" % (resp.status, resp.body[:300]))
        return resp.json()

    def reset(self):
        resp = request(self.port, "POST", "/_fakellm/reset", body=b"", timeout=5)
        if resp.status not in (200, 204):
            raise AssertionError("POST /_fakellm/reset answered %d" % resp.status)

    def request_count(self):
        return int(self.stats()["requests"])

    def find_request(self, marker):
        """The last upstream request whose body contains `marker` (or None)."""
        for r in reversed(self.stats().get("last_requests", [])):
            body = r.get("body")
            text = body if isinstance(body, str) else json.dumps(body)
            if marker in text:
                return r
        return None

    def stop(self):
        if self.proc is None:
            return None
        code, _ = _stop(self.proc)
        return code

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


DEFAULT_CONFIG = """\
server: {listen: "127.0.0.1:@PORT@", admin_listen: "127.0.0.1:@APORT@", workers: 2,
         max_request_bytes: 64KiB, request_header_timeout: 2s, idle_timeout: 3s, drain_timeout: 1s}
providers:
  - {name: fake, kind: openai, base_url: "http://127.0.0.1:@FPORT@/v1", api_key_env: FAKE_KEY,
     allow_private_network: true,
     timeouts: {connect: 1s, first_byte: 2s, stream_idle: 2s, total: 10s}}
models:
  - {name: gpt-4o-mini, provider: fake, upstream_model: gpt-4o-mini, context_window: 128000,
     price_per_mtok: {input: 0.15, output: 0.6}}
routes:
  - {name: auto, default: [gpt-4o-mini]}
"""


class Llmgate:
    """One llmgate process on free loopback ports, configured from a YAML template."""

    def __init__(self, template=DEFAULT_CONFIG, fake=None, env=None, args=None):
        self.template = template
        self.fake = fake
        self.provider_key = canary("provider")
        self.env = {"FAKE_KEY": self.provider_key}
        self.env.update(env or {})
        self.args = list(args or [])
        self.dir = _make_temp_dir("llmgate-it-")
        self.config_path = os.path.join(self.dir, "config.yaml")
        self.stdout_path = os.path.join(self.dir, "stdout.log")
        self.stderr_path = os.path.join(self.dir, "stderr.log")
        self.proc = None
        self.port = self.admin_port = None
        self.dead_port = refused_port(self)

    def render(self):
        text = self.template
        text = text.replace("@PORT@", str(self.port)).replace("@APORT@", str(self.admin_port))
        text = text.replace("@DEADPORT@", str(self.dead_port))
        if "@FPORT@" in text:
            if self.fake is None:
                raise AssertionError("config template uses @FPORT@ but no FakeLLM was given")
            text = text.replace("@FPORT@", str(self.fake.port))
        return text

    def start(self, timeout=15.0):
        # A port picked by free_port() can be taken before llmgate binds it; try again then.
        for attempt in range(3):
            self.port, self.admin_port = free_port(), free_port()
            with open(self.config_path, "w") as f:
                f.write(self.render())
            env = dict(os.environ)
            env.update(self.env)
            argv = [binary("llmgate"), "--config", self.config_path] + self.args
            self.proc = _start(argv, env, self.stdout_path, self.stderr_path)
            try:
                self._wait_ready(timeout)
                return self
            except AssertionError:
                _keep_temp_dir(self.dir)
                exited = self.proc.poll() is not None
                _stop(self.proc)
                if exited and attempt < 2 and re.search(r"in use|EADDRINUSE", self.current_logs(),
                                                        re.I):
                    continue
                raise
        return self

    def _wait_ready(self, timeout):
        url = "http://%s:%d/readyz" % (HOST, self.admin_port)
        last = {"status": None}

        def ready():
            if self.proc.poll() is not None:
                raise _Exited()
            resp = request(self.admin_port, "GET", "/readyz", timeout=2)
            last["status"] = resp.status
            return resp.status == 200

        deadline = time.monotonic() + timeout
        while True:
            try:
                if ready():
                    break
            except _Exited:
                raise AssertionError(
                    "llmgate exited with code %s while we waited for 200 on %s; config %s; logs:\n%s"
                    % (self.proc.returncode, url, self.config_path, _tail(self.logs())))
            except OSError:
                pass
            if time.monotonic() >= deadline:
                raise AssertionError(
                    "timed out after %.1fs waiting for 200 on %s (last status %s); logs:\n%s"
                    % (timeout, url, last["status"], _tail(self.logs())))
            time.sleep(0.05)
        # The traffic listener must accept too.
        wait_until(lambda: _can_connect(self.port), 5,
                   "llmgate traffic port 127.0.0.1:%d to accept connections" % self.port)

    # --- state -------------------------------------------------------------

    def logs(self):
        """stdout + stderr of this process, and of earlier runs if it was restarted."""
        text = ""
        for n in range(1, getattr(self, "runs", 0) + 1):
            text += _read_text("%s.%d" % (self.stdout_path, n))
            text += _read_text("%s.%d" % (self.stderr_path, n))
        return text + _read_text(self.stdout_path) + _read_text(self.stderr_path)

    def current_logs(self):
        return _read_text(self.stdout_path) + _read_text(self.stderr_path)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def assert_healthy(self):
        if not self.alive():
            raise AssertionError("llmgate is not running (exit code %s); logs:\n%s"
                                 % (self.proc.returncode, _tail(self.logs())))
        resp = request(self.admin_port, "GET", "/healthz", timeout=5)
        if resp.status != 200:
            raise AssertionError("/healthz answered %d, expected 200" % resp.status)

    def restart(self, timeout=15.0):
        """Starts a fresh process (new ports) after the old one died; the old run's logs
        are kept beside the new ones as *.log.<n> and in logs()."""
        if self.alive():
            _stop(self.proc)
        self.runs = getattr(self, "runs", 0) + 1
        for path in (self.stdout_path, self.stderr_path):
            if os.path.exists(path):
                os.rename(path, "%s.%d" % (path, self.runs))
        return self.start(timeout)

    def fd_count(self):
        """Open file descriptors of the llmgate process (Linux /proc)."""
        return len(os.listdir("/proc/%d/fd" % self.proc.pid))

    def crash_markers(self):
        text = self.logs()
        return [m for m in CRASH_MARKERS if m in text]

    def stop(self, check=True):
        """Stops by PID. With check: the process must be alive and healthy before the
        SIGTERM, exit 0 within 10 s, and have logged no crash marker."""
        if self.proc is None:
            return None
        problems = []
        if check:
            try:
                self.assert_healthy()
            except (AssertionError, OSError) as exc:
                problems.append("before SIGTERM: %s" % exc)
        code, killed = _stop(self.proc, grace=10.0)
        if check:
            if killed:
                problems.append("did not exit within 10s of SIGTERM (SIGKILLed)")
            elif code != 0:
                problems.append("exited with %s after SIGTERM, expected 0" % code)
            markers = self.crash_markers()
            if markers:
                problems.append("crash markers in logs: %s" % markers)
            if problems:
                _keep_temp_dir(self.dir)
                raise AssertionError("llmgate (config %s): %s; logs:\n%s"
                                     % (self.config_path, "; ".join(problems), _tail(self.logs())))
        return code

    # --- requests ----------------------------------------------------------

    def request(self, method, path, **kw):
        return request(self.port, method, path, **kw)

    def admin(self, method, path, **kw):
        return request(self.admin_port, method, path, **kw)

    def chat(self, content, model="gpt-4o-mini", stream=False, headers=None, extra=None, **kw):
        body = {"model": model, "messages": [{"role": "user", "content": content}]}
        if stream:
            body["stream"] = True
        body.update(extra or {})
        return self.request("POST", "/v1/chat/completions", json_body=body, headers=headers, **kw)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop(check=exc[0] is None)


class _Exited(Exception):
    pass


def _can_connect(port):
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except OSError:
        return False


# ---------------------------------------------------------------------------
# Raw HTTP


class Response:
    def __init__(self, status, reason, header_list, body, elapsed=None):
        self.status = status
        self.reason = reason
        self.header_list = header_list  # [(name, value)] as received
        self.headers = {}
        for k, v in header_list:
            k = k.lower()
            self.headers[k] = v if k not in self.headers else self.headers[k] + ", " + v
        self.body = body
        self.elapsed = elapsed

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def json(self):
        try:
            return json.loads(self.body)
        except ValueError as exc:
            raise AssertionError("body is not JSON (%s): %r" % (exc, self.body[:500])) from None

    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return "<Response %d %s %r>" % (self.status, self.headers, self.body[:300])


class ConnectionClosed(Exception):
    pass


class RawConn:
    """One client connection; send exact bytes, read whole responses."""

    def __init__(self, port, timeout=10.0):
        self.port = port
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = b""
        self.peer_closed = False

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data):
        """Sends all bytes; returns False if the peer had closed/reset the connection."""
        if isinstance(data, str):
            data = data.encode("latin-1")
        try:
            self.sock.sendall(data)
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False

    # -- reading --

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout("read deadline passed")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            self.peer_closed = True
            raise ConnectionClosed("connection closed by peer")
        self.buf += data

    def _read_until(self, sep, deadline, limit=1 << 20):
        while sep not in self.buf:
            if len(self.buf) > limit:
                raise AssertionError("no %r within %d bytes" % (sep, limit))
            self._fill(deadline)
        i = self.buf.index(sep) + len(sep)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def _read_exact(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_head(self, timeout=None):
        """Reads a status line + headers. Returns (status, reason, [(name, value)])."""
        timeout = timeout or self.timeout
        deadline = time.monotonic() + timeout
        try:
            head = self._read_until(b"\r\n\r\n", deadline)
        except (socket.timeout, TimeoutError):
            raise AssertionError("no response head from 127.0.0.1:%d within %.1fs (got %r)"
                                 % (self.port, timeout, self.buf[:200])) from None
        except ConnectionClosed:
            raise AssertionError("127.0.0.1:%d closed the connection before a response head "
                                 "(got %r)" % (self.port, self.buf[:200])) from None
        lines = head.decode("latin-1").split("\r\n")
        m = re.match(r"HTTP/1\.[01] (\d{3})(?: (.*))?$", lines[0])
        if not m:
            raise AssertionError("bad status line %r" % lines[0])
        headers = []
        for line in lines[1:]:
            if not line:
                continue
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
        return int(m.group(1)), m.group(2) or "", headers

    def body_pieces(self, headers, status, method="POST", timeout=None):
        """Yields (arrival_time, bytes) of the decoded body as it arrives."""
        deadline = time.monotonic() + (timeout or self.timeout)
        h = {k.lower(): v for k, v in headers}
        if method == "HEAD" or status in (204, 304) or 100 <= status < 200:
            return
        if "chunked" in h.get("transfer-encoding", "").lower():
            while True:
                line = self._read_until(b"\r\n", deadline)
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self._read_until(b"\r\n", deadline) != b"\r\n":
                        pass  # trailers
                    return
                # Yield what has arrived of this chunk, piece by piece.
                left = size
                while left:
                    if not self.buf:
                        self._fill(deadline)
                    piece = self.buf[:left]
                    self.buf = self.buf[len(piece):]
                    left -= len(piece)
                    yield time.monotonic(), piece
                self._read_exact(2, deadline)
        elif "content-length" in h:
            left = int(h["content-length"])
            while left:
                if not self.buf:
                    self._fill(deadline)
                piece = self.buf[:left]
                self.buf = self.buf[len(piece):]
                left -= len(piece)
                yield time.monotonic(), piece
        else:
            while True:
                if self.buf:
                    piece, self.buf = self.buf, b""
                    yield time.monotonic(), piece
                try:
                    self._fill(deadline)
                except ConnectionClosed:
                    return

    def read_response(self, timeout=None, method="POST", skip_1xx=True):
        """Reads one whole response (following 1xx interim responses when skip_1xx)."""
        start = time.monotonic()
        while True:
            status, reason, headers = self.read_head(timeout)
            if 100 <= status < 200 and skip_1xx:
                continue
            break
        try:
            body = b"".join(p for _, p in self.body_pieces(headers, status, method, timeout))
        except (socket.timeout, TimeoutError):
            raise AssertionError("body of the %d response from 127.0.0.1:%d incomplete after "
                                 "%.1fs" % (status, self.port, timeout or self.timeout)) from None
        except ConnectionClosed:
            raise AssertionError("connection closed in the middle of the %d response body"
                                 % status) from None
        return Response(status, reason, headers, body, time.monotonic() - start)

    def wait_closed(self, timeout):
        """Waits until the peer closes (EOF or reset). Returns seconds waited, or None if
        still open after `timeout`. Data that arrives meanwhile is kept in the buffer."""
        start = time.monotonic()
        if self.peer_closed:
            return 0.0
        deadline = start + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            r, _, _ = select.select([self.sock], [], [], remaining)
            if not r:
                return None
            try:
                data = self.sock.recv(65536)
            except ConnectionResetError:
                data = b""
            except OSError as exc:
                if exc.errno in (errno.EAGAIN, errno.EWOULDBLOCK):
                    continue
                data = b""
            if not data:
                self.peer_closed = True
                return time.monotonic() - start
            self.buf += data

    def is_open(self, probe=0.05):
        """True when the peer has not closed the connection (checked for `probe` seconds)."""
        return self.wait_closed(probe) is None


def build_request(method, path, headers=None, body=None, json_body=None, host=True):
    """Exact request bytes. `headers` is a list of (name, value) or a dict; Content-Length
    is added for a body unless a Content-Length/Transfer-Encoding header is given."""
    if json_body is not None:
        body = json.dumps(json_body).encode()
    if isinstance(body, str):
        body = body.encode()
    items = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    names = {k.lower() for k, _ in items}
    if host and "host" not in names:
        items.insert(0, ("Host", "127.0.0.1"))
    if json_body is not None and "content-type" not in names:
        items.append(("Content-Type", "application/json"))
    if body is not None and "content-length" not in names and "transfer-encoding" not in names:
        items.append(("Content-Length", str(len(body))))
    head = "%s %s HTTP/1.1\r\n" % (method, path)
    head += "".join("%s: %s\r\n" % (k, v) for k, v in items) + "\r\n"
    return head.encode("latin-1") + (body or b"")


def request(port, method, path, headers=None, body=None, json_body=None, timeout=15.0):
    """One request on a fresh connection; returns a Response (body fully read)."""
    with RawConn(port, timeout=timeout) as conn:
        start = time.monotonic()
        conn.send(build_request(method, path, headers, body, json_body))
        resp = conn.read_response(timeout=timeout, method=method)
        resp.elapsed = time.monotonic() - start
        return resp


# ---------------------------------------------------------------------------
# SSE


class SseEvent:
    def __init__(self, t, raw):
        self.t = t  # seconds since the request was sent
        self.raw = raw
        lines = raw.split("\n")
        self.comments = [l[1:].strip() for l in lines if l.startswith(":")]
        data = [l[5:].lstrip(" ") if l.startswith("data:") else None for l in lines]
        data = [d for d in data if d is not None]
        self.data = "\n".join(data) if data else None

    @property
    def is_comment(self):
        return self.data is None

    def json(self):
        return json.loads(self.data)

    def __repr__(self):
        return "<SseEvent t=%.3f %r>" % (self.t, self.raw[:120])


class Stream:
    """A streamed response: head, then SSE events with arrival times."""

    def __init__(self, status, header_list, t_headers, events, body, closed_after):
        self.status = status
        self.headers = {k.lower(): v for k, v in header_list}
        self.t_headers = t_headers
        self.events = events
        self.body = body  # raw decoded body text
        self.closed_after = closed_after  # seconds from the end of the body to peer close, or None

    @property
    def data_events(self):
        return [e for e in self.events if not e.is_comment]

    def json(self):
        return json.loads(self.body)


def stream_request(port, path, json_body, headers=None, timeout=20.0, wait_close=0.0):
    """POSTs and reads the answer as SSE, timing each event from the moment the request
    was sent. With wait_close > 0, also waits that long for the server to close."""
    conn = RawConn(port, timeout=timeout)
    try:
        t0 = time.monotonic()
        conn.send(build_request("POST", path, headers, json_body=json_body))
        status, _, header_list = conn.read_head(timeout)
        t_headers = time.monotonic() - t0
        events, text, pending = [], "", ""
        truncated = False
        try:
            for t, piece in conn.body_pieces(header_list, status, timeout=timeout):
                s = piece.decode("utf-8", "replace")
                text += s
                pending = (pending + s).replace("\r\n", "\n")
                while "\n\n" in pending:
                    block, pending = pending.split("\n\n", 1)
                    if block.strip("\n"):
                        events.append(SseEvent(t - t0, block.strip("\n")))
        except ConnectionClosed:
            truncated = True  # closed before the end of the HTTP body (no last chunk)
        except (socket.timeout, TimeoutError):
            raise AssertionError("stream from 127.0.0.1:%d did not end within %.1fs; events so "
                                 "far: %r" % (port, timeout, events[-5:])) from None
        if pending.strip():
            events.append(SseEvent(time.monotonic() - t0, pending.strip("\n")))
        closed = conn.wait_closed(wait_close) if wait_close else None
        st = Stream(status, header_list, t_headers, events, text, closed)
        st.http_truncated = truncated
        return st
    finally:
        conn.close()


# ---------------------------------------------------------------------------
# Assertions shared by the test modules


class GatewayTestCase(unittest.TestCase):
    maxDiff = 4000
    gate = None

    def setUp(self):
        # Tests do not depend on each other: if an earlier test crashed llmgate or
        # fakellm (that test failed in its tearDown), this one gets fresh processes.
        gate, fake = type(self).gate, getattr(type(self), "fake", None)
        if fake is not None and not fake.alive():
            _keep_temp_dir(fake.dir)
            fake.restart()
            if gate is not None:
                gate.restart()  # the new fakellm listens on a new port
        if gate is not None and not gate.alive():
            _keep_temp_dir(gate.dir)
            gate.restart()

    def tearDown(self):
        fake = getattr(type(self), "fake", None)
        if fake is not None:
            fake.assert_alive()
        if type(self).gate is not None:
            self.gate.assert_healthy()

    def assertOpenAIError(self, resp, status, code, param="<any>", request_id=None):
        """The ERRORS.md shape: status, JSON content type, error.{message,type,param,code},
        x-request-id and x-llmgate-attempts headers."""
        self.assertEqual(resp.status, status, "expected HTTP %d %s, got %r" % (status, code, resp))
        self.assertIn("application/json", resp.header("content-type", ""),
                      "error content-type: %r" % resp)
        body = resp.json()
        self.assertIsInstance(body, dict, resp)
        self.assertIn("error", body, resp)
        err = body["error"]
        for key in ("message", "type", "param", "code"):
            self.assertIn(key, err, "error.%s missing: %r" % (key, body))
        self.assertEqual(err["code"], code, body)
        self.assertIsInstance(err["message"], str)
        self.assertTrue(err["message"].strip(), "empty error message: %r" % body)
        self.assertIsInstance(err["type"], str)
        if param != "<any>":
            self.assertEqual(err["param"], param, body)
        self.assertTrue(resp.header("x-request-id"), "no x-request-id on error: %r" % resp)
        if request_id is not None:
            self.assertEqual(resp.header("x-request-id"), request_id)
        attempts = resp.header("x-llmgate-attempts")
        self.assertIsNotNone(attempts, "no x-llmgate-attempts on error: %r" % resp)
        self.assertRegex(attempts, r"^\d+$")
        return err

    # -- per-module process stacks --

    @classmethod
    def start_stack(cls, template=DEFAULT_CONFIG, fake_args=(), env=None, with_fake=True):
        """Starts fakellm (optional) and llmgate for the whole TestCase class; both are
        stopped by class cleanups, llmgate first, and llmgate's stop is checked."""
        cls.fake = None
        if with_fake:
            cls.fake = FakeLLM(*fake_args).start()
            cls.addClassCleanup(cls.fake.stop)
        gate = Llmgate(template, fake=cls.fake, env=env)
        gate.start()
        cls.gate = gate
        cls.addClassCleanup(gate.stop)
        return gate

    def marker(self):
        """A unique word to find this test's request in fakellm's last_requests."""
        return "it-%s-%s" % (self._testMethodName[5:25], secrets.token_hex(4))
