"""Client bad input over raw sockets: RELIABILITY.md cases 47, 48, 51, 52, 55, 57
(and the traffic-port half of 75). Every case also checks that llmgate is
still alive and healthy afterwards (tearDown) and exits 0 on SIGTERM (cleanup).
"""

import json
import time
import unittest

from harness import GatewayTestCase, RawConn, build_request, wait_until

MAX_BODY = 64 * 1024
HEADER_TIMEOUT_S = 1.0
BODY_TIMEOUT_S = 1.5
IDLE_TIMEOUT_S = 2.0
SLACK_S = 1.5

CONFIG = """\
server: {listen: "127.0.0.1:@PORT@", admin_listen: "127.0.0.1:@APORT@", workers: 2,
         max_request_bytes: 64KiB, max_header_bytes: 8KiB, request_header_timeout: 1s,
         request_body_timeout: 1500ms, idle_timeout: 2s, drain_timeout: 1s}
retry: {max_attempts: 1}
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

GOOD = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}]}
GOOD_BYTES = json.dumps(GOOD).encode()
JSON_CT = [("Content-Type", "application/json")]


def post(body, headers=None, path="/v1/chat/completions"):
    return build_request("POST", path, (headers or []) + JSON_CT, body=body)


class BadInputTest(GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        cls.start_stack(CONFIG)
        cls.baseline = (cls.gate.proc.pid, cls.gate.fd_count())
        cls.addClassCleanup(cls.check_no_fd_leak)  # runs before llmgate is stopped

    @classmethod
    def check_no_fd_leak(cls):
        # Every connection these tests opened is closed by now or by the idle timeout;
        # upstream pool connections to fakellm are allowed a little room.
        pid, baseline = cls.baseline
        if not cls.gate.alive() or cls.gate.proc.pid != pid:
            return  # restarted after a crash, which a test already reported
        limit = baseline + 8
        try:
            wait_until(lambda: cls.gate.fd_count() <= limit, IDLE_TIMEOUT_S + 3,
                       "llmgate's open FDs to return to baseline %d (+8)" % baseline)
        except AssertionError as exc:
            raise AssertionError("%s: now %d FDs" % (exc, cls.gate.fd_count())) from None


    def conn(self, timeout=10):
        c = RawConn(self.gate.port, timeout=timeout)
        self.addCleanup(c.close)
        return c

    def assertClosedSoon(self, conn, within=3.0, what="the connection"):
        waited = conn.wait_closed(within)
        self.assertIsNotNone(waited, "%s was still open %.1fs after the error" % (what, within))

    # --- R47 -------------------------------------------------------------

    def test_malformed_json_keeps_connection_usable(self):
        good_msg = b'[{"role":"user","content":"hi"}]'
        variants = {
            "truncated": b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"',
            "trailing garbage": GOOD_BYTES + b" xyz",
            "two documents": GOOD_BYTES + GOOD_BYTES,
            "NaN": b'{"model":"gpt-4o-mini","temperature":NaN,"messages":' + good_msg + b"}",
            "Infinity": b'{"model":"gpt-4o-mini","temperature":Infinity,"messages":' + good_msg + b"}",
            "duplicate keys": b'{"model":"gpt-4o-mini","model":"gpt-4o-mini","messages":'
                              + good_msg + b"}",
            "top-level array": b"[" + GOOD_BYTES + b"]",
            "top-level string": b'"hello"',
            "empty body": b"",
            "invalid utf-8": b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"\xff\xfe"}]}',
            "single quotes": b"{'model':'gpt-4o-mini'}",
        }
        before = self.fake.request_count()
        conn = self.conn()
        goods = 0
        for name, body in variants.items():
            with self.subTest(variant=name):
                self.assertTrue(conn.send(post(body)), "connection dropped before %s" % name)
                resp = conn.read_response()
                self.assertOpenAIError(resp, 400, "invalid_json", param=None)
                self.assertEqual(resp.json()["error"]["type"], "invalid_request_error")
                self.assertEqual(resp.header("x-llmgate-attempts"), "0")
                self.assertNotEqual((resp.header("connection") or "").lower(), "close",
                                    "a bad JSON body must not end the keep-alive connection")
                # The same connection serves a good request next.
                self.assertTrue(conn.send(post(GOOD_BYTES)), "connection closed after %s" % name)
                good = conn.read_response()
                self.assertEqual(good.status, 200, "after %s: %r" % (name, good))
                goods += 1
        self.assertEqual(self.fake.request_count() - before, goods,
                         "malformed bodies must not reach upstream")

    # --- R48 -------------------------------------------------------------

    def test_wrong_types_and_ranges_name_the_field(self):
        user = {"role": "user", "content": "hi"}
        cases = [
            ("messages not an array", {"messages": "hello"}, "messages"),
            ("messages empty", {"messages": []}, "messages"),
            ("messages object", {"messages": {"role": "user"}}, "messages"),
            ("role wizard", {"messages": [{"role": "system", "content": "s"},
                                          {"role": "wizard", "content": "hi"}]},
             "messages[1].role"),
            ("temperature hot", {"temperature": "hot"}, "temperature"),
            ("temperature 7", {"temperature": 7}, "temperature"),
            ("max_tokens -1", {"max_tokens": -1}, "max_tokens"),
            ("max_tokens string", {"max_tokens": "ten"}, "max_tokens"),
            ("n 10000", {"n": 10000}, "n"),
            ("stream yes", {"stream": "yes"}, "stream"),
            ("model number", {"model": 42}, "model"),
            ("model missing", {"model": None}, "model"),
        ]
        before = self.fake.request_count()
        for name, patch, param in cases:
            with self.subTest(case=name):
                body = {"model": "gpt-4o-mini", "messages": [user]}
                body.update(patch)
                body = {k: v for k, v in body.items() if v is not None}
                resp = self.gate.request("POST", "/v1/chat/completions", json_body=body)
                err = self.assertOpenAIError(resp, 400, "invalid_request_error", param=param)
                self.assertEqual(err["type"], "invalid_request_error")
                self.assertEqual(resp.header("x-llmgate-attempts"), "0")
        self.assertEqual(self.fake.request_count(), before, "invalid requests reached upstream")

    # --- R51 -------------------------------------------------------------

    def test_content_length_over_cap_is_413_before_body(self):
        conn = self.conn()
        # Headers only: the answer must come without us sending a byte of the body.
        conn.send(build_request("POST", "/v1/chat/completions",
                                JSON_CT + [("Content-Length", str(16 * MAX_BODY))]))
        resp = conn.read_response(timeout=3)
        self.assertOpenAIError(resp, 413, "request_too_large", param=None)
        self.assertClosedSoon(conn)

    def test_chunked_body_over_cap_is_413(self):
        conn = self.conn()
        conn.send(build_request("POST", "/v1/chat/completions",
                                JSON_CT + [("Transfer-Encoding", "chunked")]))
        prefix = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"'
        conn.send(b"%x\r\n%s\r\n" % (len(prefix), prefix))
        sent = len(prefix)
        piece = b"a" * 4096
        # Cross the cap by a little and stop: no terminating chunk is ever sent.
        while sent <= MAX_BODY + 4096:
            if not conn.send(b"%x\r\n%s\r\n" % (len(piece), piece)):
                break
            sent += len(piece)
        resp = conn.read_response(timeout=3)
        self.assertOpenAIError(resp, 413, "request_too_large", param=None)
        self.assertClosedSoon(conn)

    def test_expect_continue_with_oversize_length_is_413_not_100(self):
        conn = self.conn()
        conn.send(build_request("POST", "/v1/chat/completions",
                                JSON_CT + [("Content-Length", str(10 * 1024 * 1024)),
                                           ("Expect", "100-continue")]))
        resp = conn.read_response(timeout=3, skip_1xx=False)
        self.assertNotEqual(resp.status, 100, "sent 100 Continue for a body over the cap")
        self.assertOpenAIError(resp, 413, "request_too_large", param=None)
        self.assertClosedSoon(conn)

    # --- R52 -------------------------------------------------------------

    def assertHeaderRejected(self, raw, what):
        conn = self.conn()
        conn.send(raw)
        resp = conn.read_response(timeout=3)
        self.assertIn(resp.status, (400, 431), "%s: %r" % (what, resp))
        code = "request_header_too_large" if resp.status == 431 else "bad_request"
        self.assertOpenAIError(resp, resp.status, code, param=None)
        self.assertClosedSoon(conn, what="connection after %s" % what)

    def test_9k_of_headers(self):
        self.assertHeaderRejected(post(GOOD_BYTES, [("X-Big", "a" * 9 * 1024)]), "9 KiB header")

    def test_1000_headers(self):
        headers = [("X-H-%d" % i, "v") for i in range(1000)]
        self.assertHeaderRejected(post(GOOD_BYTES, headers), "1000 headers")

    def test_control_bytes_in_header_values(self):
        variants = {
            "NUL": b"X-Test: a\x00b\r\n",
            "bare CR": b"X-Test: a\rb\r\n",
            "bare LF": b"X-Test: a\nb\r\n",
            "non-ASCII name": "X-T\u00e9st: v\r\n".encode("utf-8"),
            "space before colon": b"X-Test : v\r\n",
        }
        for name, line in variants.items():
            with self.subTest(variant=name):
                raw = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n" + line +
                       b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                       % len(GOOD_BYTES) + GOOD_BYTES)
                conn = self.conn()
                conn.send(raw)
                resp = conn.read_response(timeout=3)
                self.assertOpenAIError(resp, 400, "bad_request", param=None)
                self.assertClosedSoon(conn, what="connection after %s" % name)

    def test_conflicting_lengths(self):
        raw = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
               b"Content-Type: application/json\r\nContent-Length: %d\r\n"
               b"Content-Length: %d\r\n\r\n" % (len(GOOD_BYTES), len(GOOD_BYTES) + 5) + GOOD_BYTES)
        conn = self.conn()
        conn.send(raw)
        resp = conn.read_response(timeout=3)
        self.assertOpenAIError(resp, 400, "bad_request", param=None)
        self.assertClosedSoon(conn)

    # --- R55 -------------------------------------------------------------

    def trickle_until_closed(self, conn, data, interval, give_up):
        """Sends one byte every `interval` s; returns seconds until the server closed."""
        start = time.monotonic()
        for b in data:
            if not conn.send(bytes([b])):
                return time.monotonic() - start
            if conn.wait_closed(interval) is not None:
                return time.monotonic() - start
            if time.monotonic() - start > give_up:
                break
        waited = conn.wait_closed(max(0.0, give_up - (time.monotonic() - start)))
        return None if waited is None else time.monotonic() - start

    def test_slow_headers_closed_at_header_timeout(self):
        conn = self.conn()
        start = time.monotonic()
        headers = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   b"Content-Type: application/json\r\nX-Pad: " + b"p" * 200 + b"\r\n\r\n")
        closed = self.trickle_until_closed(conn, headers, 0.1, HEADER_TIMEOUT_S + SLACK_S + 1)
        self.assertIsNotNone(closed, "server kept a trickling client for over %.1fs (header "
                             "timeout %.1fs)" % (HEADER_TIMEOUT_S + SLACK_S + 1, HEADER_TIMEOUT_S))
        closed = time.monotonic() - start
        self.assertGreaterEqual(closed, 0.7 * HEADER_TIMEOUT_S, "closed before the header timeout")
        self.assertLessEqual(closed, HEADER_TIMEOUT_S + SLACK_S)

    def test_slow_body_closed_at_body_timeout(self):
        conn = self.conn()
        conn.send(build_request("POST", "/v1/chat/completions",
                                JSON_CT + [("Content-Length", str(len(GOOD_BYTES)))]))
        start = time.monotonic()
        closed = self.trickle_until_closed(conn, GOOD_BYTES, 0.1, BODY_TIMEOUT_S + SLACK_S + 1)
        self.assertIsNotNone(closed, "server kept a body-trickling client open")
        self.assertGreaterEqual(closed, 0.7 * BODY_TIMEOUT_S, "closed before the body timeout")
        self.assertLessEqual(closed, BODY_TIMEOUT_S + SLACK_S)
        self.assertLess(time.monotonic() - start, BODY_TIMEOUT_S + SLACK_S + 0.5)

    def test_idle_keepalive_connection_closed_after_idle_timeout(self):
        conn = self.conn()
        conn.send(build_request("GET", "/v1/models"))
        resp = conn.read_response(method="GET")
        self.assertEqual(resp.status, 200, resp)
        waited = conn.wait_closed(IDLE_TIMEOUT_S + SLACK_S)
        self.assertIsNotNone(waited, "idle keep-alive connection still open %.1fs after the "
                             "idle timeout" % SLACK_S)
        # The idle timeout (2 s), not the request-header timeout (1 s), applies here.
        self.assertGreaterEqual(waited, 0.7 * IDLE_TIMEOUT_S,
                                "idle connection closed after %.2fs, before the idle timeout"
                                % waited)

    # --- R57 -------------------------------------------------------------

    def test_wrong_method_is_405(self):
        for method in ("PUT", "GET", "DELETE"):
            with self.subTest(method=method):
                body = GOOD_BYTES if method == "PUT" else None
                resp = self.gate.request(method, "/v1/chat/completions", body=body,
                                         headers=JSON_CT if body else None)
                self.assertOpenAIError(resp, 405, "method_not_allowed", param=None)

    def test_unsupported_content_types_are_415(self):
        boundary = "b" * 70
        multipart = ("--%s\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ngpt-4o-mini\r\n"
                     "--%s--\r\n" % (boundary, boundary)).encode()
        cases = {
            "multipart": ("multipart/form-data; boundary=" + boundary, multipart),
            "text/plain": ("text/plain", GOOD_BYTES),
            "form": ("application/x-www-form-urlencoded", b"model=gpt-4o-mini"),
        }
        before = self.fake.request_count()
        for name, (ctype, body) in cases.items():
            with self.subTest(content_type=name):
                resp = self.gate.request("POST", "/v1/chat/completions", body=body,
                                         headers=[("Content-Type", ctype)])
                self.assertOpenAIError(resp, 415, "unsupported_media_type", param=None)
        self.assertEqual(self.fake.request_count(), before)

    def test_unknown_paths_and_admin_paths_are_404_on_traffic_port(self):
        for method, path in (("POST", "/v1/nope"), ("GET", "/nope"), ("GET", "/metrics"),
                             ("GET", "/config"), ("GET", "/healthz"), ("GET", "/readyz"),
                             ("GET", "/routes"), ("GET", "/admin/config")):
            with self.subTest(path=path):
                resp = self.gate.request(method, path, body=GOOD_BYTES if method == "POST" else None,
                                         headers=JSON_CT if method == "POST" else None)
                self.assertOpenAIError(resp, 404, "unknown_url", param=None)

    def test_path_tricks_never_reach_admin_handlers(self):
        for path in ("//metrics", "/v1/../metrics", "/v1/%2e%2e/metrics", "/./config",
                     "/%63onfig", "/metrics?x=1", "/v1/models/../../config"):
            with self.subTest(path=path):
                resp = self.gate.request("GET", path)
                self.assertIn(resp.status, (400, 404), resp)
                self.assertNotIn(b"llmgate_", resp.body)
                self.assertNotIn(b"FAKE_KEY", resp.body)


if __name__ == "__main__":
    unittest.main()
