"""Client authentication (RELIABILITY.md case 58), the admin listener's /config,
and secret redaction across responses, /config, /metrics and logs (case 72, the
part this process can see).
"""

import json
import secrets
import time
import unittest

from harness import GatewayTestCase, RawConn, canary, wait_until

CLIENT_KEY = canary("client")
OTHER_CLIENT_KEY = canary("client-b")

CONFIG = """\
server: {listen: "127.0.0.1:@PORT@", admin_listen: "127.0.0.1:@APORT@", workers: 2,
         max_request_bytes: 64KiB, max_header_bytes: 256KiB, request_header_timeout: 2s,
         idle_timeout: 3s, drain_timeout: 1s}
logging: {level: debug}
retry: {max_attempts: 1}
clients:
  - {key_env: TEAM_A_KEY, tenant: team-a}
  - {key_env: TEAM_B_KEY, tenant: team-b}
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


class AuthAndAdminTest(GatewayTestCase):
    seen = []  # every response body+headers this module received from llmgate

    @classmethod
    def setUpClass(cls):
        # Registered first so that it runs last, after llmgate has stopped.
        cls.addClassCleanup(cls.check_logs_after_exit)
        cls.start_stack(CONFIG, env={"TEAM_A_KEY": CLIENT_KEY, "TEAM_B_KEY": OTHER_CLIENT_KEY})

    @classmethod
    def check_logs_after_exit(cls):
        # Runs after llmgate stopped (cleanups are LIFO): the full logs, flushed.
        if getattr(cls, "gate", None) is None:
            return
        logs = cls.gate.logs()
        for name, secret in cls.secrets().items():
            if secret in logs:
                raise AssertionError("%s (%s...) appears in llmgate's logs" % (name, secret[:14]))

    @classmethod
    def secrets(cls):
        return {"provider key": cls.gate.provider_key, "team-a key": CLIENT_KEY,
                "team-b key": OTHER_CLIENT_KEY}


    def record(self, resp):
        self.seen.append(json.dumps(resp.headers) + resp.text())
        return resp

    def chat(self, auth_headers, body=GOOD):
        return self.record(self.gate.request("POST", "/v1/chat/completions", json_body=body,
                                             headers=auth_headers))

    def assertNoSecrets(self, text, where):
        for name, secret in self.secrets().items():
            self.assertNotIn(secret, text, "%s appears in %s" % (name, where))

    # --- R58 -------------------------------------------------------------

    def test_bad_keys_are_401_and_never_echoed(self):
        unknown = "sk-unknown-" + secrets.token_hex(16)
        cases = [
            ("missing", [], None),
            ("empty bearer", [("Authorization", "Bearer ")], None),
            ("bare Bearer", [("Authorization", "Bearer")], None),
            ("unknown key", [("Authorization", "Bearer " + unknown)], unknown),
            ("valid key, wrong scheme", [("Authorization", "Basic " + CLIENT_KEY)], CLIENT_KEY),
            ("valid key with suffix", [("Authorization", "Bearer " + CLIENT_KEY + "x")],
             CLIENT_KEY + "x"),
            ("prefix of a valid key", [("Authorization", "Bearer " + CLIENT_KEY[:-1])],
             CLIENT_KEY[:-1]),
        ]
        before = self.fake.request_count()
        for name, headers, sent_key in cases:
            with self.subTest(case=name):
                rid = "it-auth-" + secrets.token_hex(4)
                resp = self.chat(headers + [("x-request-id", rid)])
                err = self.assertOpenAIError(resp, 401, "invalid_api_key", param=None,
                                             request_id=rid)
                self.assertEqual(err["type"], "invalid_request_error")
                self.assertEqual(resp.header("x-llmgate-attempts"), "0")
                if sent_key:
                    self.assertNotIn(sent_key, resp.text(), "the sent key was echoed")
                    self.assertNotIn(sent_key, json.dumps(resp.headers))
                    # Not even a recognisable chunk of it.
                    self.assertNotIn(sent_key[:24], resp.text())
        self.assertEqual(self.fake.request_count(), before, "unauthenticated requests went upstream")

    def test_8kb_bearer_is_401(self):
        # Far longer than any configured key, well under max_header_bytes.
        big = "sk-" + secrets.token_hex(8) + "k" * (8 * 1024)
        resp = self.chat([("Authorization", "Bearer " + big)])
        self.assertOpenAIError(resp, 401, "invalid_api_key", param=None)
        self.assertNotIn(big[:24], resp.text(), "the sent key was echoed")

    def test_100kb_bearer_is_401(self):
        # R58 / ERRORS.md: an oversized bearer is a 401. This config raises
        # max_header_bytes to 256KiB so that the key, not the header cap, is judged.
        huge = "sk-" + secrets.token_hex(8) + "h" * (100 * 1024)
        before = self.fake.request_count()
        resp = self.chat([("Authorization", "Bearer " + huge)])
        self.assertOpenAIError(resp, 401, "invalid_api_key", param=None)
        self.assertNotIn(huge[:24], resp.text(), "the sent key was echoed")
        self.assertNotIn(huge[:24], json.dumps(resp.headers))
        self.assertEqual(self.fake.request_count(), before)

    def test_bearer_with_newline_is_rejected(self):
        # A valid key followed by a line break must never authenticate: the request is
        # either malformed HTTP (400) or an unknown key (401).
        variants = {
            "obs-fold": b"Authorization: Bearer " + CLIENT_KEY.encode() + b"\r\n extra\r\n",
            "bare LF": b"Authorization: Bearer " + CLIENT_KEY.encode() + b"\nX-Injected: 1\r\n",
            "CR inside": b"Authorization: Bearer " + CLIENT_KEY.encode() + b"\rjunk\r\n",
        }
        body = json.dumps(GOOD).encode()
        before = self.fake.request_count()
        for name, line in variants.items():
            with self.subTest(variant=name):
                raw = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n" + line +
                       b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)
                       + body)
                with RawConn(self.gate.port) as conn:
                    conn.send(raw)
                    resp = self.record(conn.read_response(timeout=5))
                self.assertIn(resp.status, (400, 401), "%s: %r" % (name, resp))
                code = "invalid_api_key" if resp.status == 401 else "bad_request"
                self.assertOpenAIError(resp, resp.status, code, param=None)
                self.assertNotIn(CLIENT_KEY, resp.text())
        self.assertEqual(self.fake.request_count(), before)

    def test_valid_keys_are_served_and_not_forwarded(self):
        for key in (CLIENT_KEY, OTHER_CLIENT_KEY):
            with self.subTest(key=key[:18]):
                mark = self.marker()
                body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": mark}]}
                resp = self.chat([("Authorization", "Bearer " + key)], body)
                self.assertEqual(resp.status, 200, resp)
                self.assertEqual(resp.json().get("object"), "chat.completion")
                sent = self.fake.find_request(mark)
                self.assertIsNotNone(sent, "fakellm did not record %s" % mark)
                text = json.dumps(sent)
                self.assertNotIn(key, text, "the client key went upstream")
                headers = {k.lower(): v for k, v in sent["headers"].items()}
                self.assertEqual(headers.get("authorization"), "Bearer " + self.gate.provider_key)

    def test_models_also_requires_a_key(self):
        resp = self.record(self.gate.request("GET", "/v1/models"))
        self.assertOpenAIError(resp, 401, "invalid_api_key", param=None)
        resp = self.record(self.gate.request("GET", "/v1/models",
                                             headers=[("Authorization", "Bearer " + CLIENT_KEY)]))
        self.assertEqual(resp.status, 200, resp)

    # --- admin /config and redaction (R72 subset) ------------------------

    def test_config_endpoint_redacts_secrets(self):
        resp = self.gate.admin("GET", "/config")
        self.assertEqual(resp.status, 200, resp)
        self.assertIn("json", resp.header("content-type", ""))
        text = resp.text()
        json.loads(text)  # valid JSON
        self.assertIn("***", text)
        for env in ("FAKE_KEY", "TEAM_A_KEY", "TEAM_B_KEY"):
            self.assertIn(env, text, "/config does not name the env var %s" % env)
        self.assertNoSecrets(text, "/config")
        # The effective config is the one we wrote.
        self.assertIn("gpt-4o-mini", text)
        self.assertIn("team-a", text)

    def test_admin_endpoints_carry_no_secrets(self):
        # Traffic first, failures included, so counters and logs have something in them.
        self.chat([("Authorization", "Bearer " + CLIENT_KEY)])
        self.chat([("Authorization", "Bearer nope")])
        self.chat([("Authorization", "Bearer " + CLIENT_KEY)],
                  {"model": "gpt-4o-mini",
                   "messages": [{"role": "user", "content": 'FAKELLM{"status":401}'}]})
        for path in ("/metrics", "/config", "/routes", "/healthz", "/readyz"):
            with self.subTest(path=path):
                resp = self.gate.admin("GET", path)
                self.assertNotIn(resp.status, (500, 502, 503), "%s: %r" % (path, resp))
                self.assertNoSecrets(resp.text() + json.dumps(resp.headers), path)

    def test_metrics_endpoint_serves_prometheus_text(self):
        self.chat([("Authorization", "Bearer " + CLIENT_KEY)])
        metrics = self.gate.admin("GET", "/metrics")
        self.assertEqual(metrics.status, 200, metrics)
        self.assertIn("text/plain", metrics.header("content-type", ""))
        self.assertIn('llmgate_build_info{version="', metrics.text())
        self.assertNoSecrets(metrics.text(), "/metrics")
        # The worker ends a request's in-flight count when its coroutine
        # resumes after the last write, which can be just after the client
        # has read the answer and asked the admin thread for /metrics: the
        # gauge must settle to 0, not read 0 at the first instant.
        wait_until(lambda: "llmgate_inflight_requests 0\n" in self.gate.admin("GET", "/metrics")
                   .text(), 3.0, "llmgate_inflight_requests to settle at 0", interval=0.02)

    def test_upstream_auth_failure_is_502_without_keys(self):
        resp = self.chat([("Authorization", "Bearer " + CLIENT_KEY)],
                         {"model": "gpt-4o-mini",
                          "messages": [{"role": "user", "content": 'FAKELLM{"status":401}'}]})
        self.assertOpenAIError(resp, 502, "upstream_auth_failed", param=None)
        self.assertNoSecrets(resp.text() + json.dumps(resp.headers), "the 502 response")

    def test_zz_no_secret_in_responses_or_logs_so_far(self):
        # Ordering only matters for coverage (this runs last); it passes on its own too.
        time.sleep(0.2)  # let the access log reach the file
        for i, text in enumerate(self.seen):
            self.assertNoSecrets(text, "response #%d" % i)
        self.assertNoSecrets(self.gate.logs(), "llmgate's logs")


if __name__ == "__main__":
    unittest.main()
