"""Upstream failures mapped to llmgate's errors (docs/ERRORS.md): connection
refused (RELIABILITY.md case 2), provider 5xx/401/429, a non-JSON answer
(case 18), a reset before any answer, and a hung provider cut at timeouts.total.
"""

import json
import secrets
import time
import unittest

from harness import GatewayTestCase, stream_request

CONNECT_S = 1.0
MAX_ATTEMPTS = 2
HANG_TOTAL_S = 1.0

# Two providers: acme-fake is fakellm; dead-upstream is a loopback port nobody
# listens on. Ejection is pushed out of reach so that one test's failures never
# change another's outcome.
CONFIG = """\
server: {listen: "127.0.0.1:@PORT@", admin_listen: "127.0.0.1:@APORT@", workers: 2,
         max_request_bytes: 64KiB, request_header_timeout: 2s, idle_timeout: 3s, drain_timeout: 1s}
retry: {max_attempts: 2, base_delay: 10ms, max_delay: 200ms}
failover: {eject_after: 1000}
providers:
  - {name: acme-fake, kind: openai, base_url: "http://127.0.0.1:@FPORT@/v1", api_key_env: FAKE_KEY,
     allow_private_network: true,
     timeouts: {connect: 1s, first_byte: 2s, stream_idle: 2s, total: 10s}}
  # A provider of its own for the 429 test: a Retry-After above max_delay cools
  # its provider down (R7), which must not leak into the other tests.
  - {name: rl-fake, kind: openai, base_url: "http://127.0.0.1:@FPORT@/v1", api_key_env: FAKE_KEY,
     allow_private_network: true,
     timeouts: {connect: 1s, first_byte: 2s, stream_idle: 2s, total: 10s}}
  - {name: dead-upstream, kind: openai, base_url: "http://127.0.0.1:@DEADPORT@/v1",
     api_key_env: FAKE_KEY, allow_private_network: true,
     timeouts: {connect: 1s, first_byte: 2s, stream_idle: 2s, total: 10s}}
models:
  - {name: gpt-4o-mini, provider: acme-fake, upstream_model: gpt-4o-mini, context_window: 128000,
     price_per_mtok: {input: 0.15, output: 0.6}}
  - {name: rl-model, provider: rl-fake, upstream_model: gpt-4o-mini, context_window: 128000,
     price_per_mtok: {input: 0.15, output: 0.6}}
  - {name: ghost-model, provider: dead-upstream, upstream_model: gpt-4o-mini,
     context_window: 128000, price_per_mtok: {input: 0.15, output: 0.6}}
routes:
  - {name: auto, default: [gpt-4o-mini]}
"""

# first_byte may not exceed total (docs/CONFIG.md); with both at 1 s a hung
# provider has used up the whole attempt, which is upstream_timeout. stream_idle
# is shorter, for the idle test.
HANG_CONFIG = """\
server: {listen: "127.0.0.1:@PORT@", admin_listen: "127.0.0.1:@APORT@", workers: 2,
         max_request_bytes: 64KiB, request_header_timeout: 2s, idle_timeout: 3s, drain_timeout: 1s}
retry: {max_attempts: 1}
providers:
  - {name: acme-fake, kind: openai, base_url: "http://127.0.0.1:@FPORT@/v1", api_key_env: FAKE_KEY,
     allow_private_network: true,
     timeouts: {connect: 1s, first_byte: 1s, stream_idle: 400ms, total: 1s}}
models:
  - {name: gpt-4o-mini, provider: acme-fake, upstream_model: gpt-4o-mini, context_window: 128000,
     price_per_mtok: {input: 0.15, output: 0.6}}
routes:
  - {name: auto, default: [gpt-4o-mini]}
"""


class UpstreamCase(GatewayTestCase):

    def call(self, content, model="gpt-4o-mini", stream=False):
        rid = "it-up-" + secrets.token_hex(6)
        resp = self.gate.chat(content, model=model, stream=stream, headers={"x-request-id": rid},
                              timeout=30)
        return resp, rid

    def assertUpstreamError(self, resp, rid, status, code, provider="acme-fake",
                            provider_error=True, max_attempts=MAX_ATTEMPTS):
        err = self.assertOpenAIError(resp, status, code, param=None, request_id=rid)
        self.assertIn(provider, err["message"], "the message should name the provider")
        if provider_error:
            # An error the provider answered names it in x-llmgate-provider (ERRORS.md).
            self.assertEqual(resp.header("x-llmgate-provider"), provider)
        attempts = int(resp.header("x-llmgate-attempts"))
        self.assertGreaterEqual(attempts, 1)
        self.assertLessEqual(attempts, max_attempts)
        if provider_error:
            self.assertIn("provider_error", err, "the provider's own body belongs under "
                          "error.provider_error: %r" % err)
        text = resp.text() + json.dumps(resp.headers)
        self.assertNotIn(self.gate.provider_key, text, "provider key leaked in an error")
        return err


class UpstreamErrorsTest(UpstreamCase):
    @classmethod
    def setUpClass(cls):
        cls.start_stack(CONFIG)

    def test_connection_refused_is_503_upstream_unavailable(self):
        start = time.monotonic()
        resp, rid = self.call("anyone there?", model="ghost-model")
        elapsed = time.monotonic() - start
        self.assertUpstreamError(resp, rid, 503, "upstream_unavailable", provider="dead-upstream",
                                 provider_error=False)
        self.assertLess(elapsed, MAX_ATTEMPTS * CONNECT_S + 1.0,
                        "refused connections should fail within max_attempts x connect timeout")

    def test_provider_503_is_upstream_overloaded(self):
        resp, rid = self.call('busy FAKELLM{"status":503}')
        self.assertUpstreamError(resp, rid, 503, "upstream_overloaded")

    def test_provider_500_is_upstream_server_error(self):
        resp, rid = self.call('broken FAKELLM{"status":500}')
        self.assertUpstreamError(resp, rid, 502, "upstream_server_error")

    def test_provider_401_is_502_upstream_auth_failed(self):
        resp, rid = self.call('bad key FAKELLM{"status":401}')
        self.assertNotEqual(resp.status, 401, "a provider 401 must never reach the client as 401")
        self.assertUpstreamError(resp, rid, 502, "upstream_auth_failed")

    def test_provider_429_is_rate_limited_with_retry_after(self):
        resp, rid = self.call('slow down FAKELLM{"status":429,"retry_after":"2"}', model="rl-model")
        err = self.assertUpstreamError(resp, rid, 429, "rate_limited", provider="rl-fake")
        self.assertEqual(err["type"], "rate_limit_error")
        self.assertEqual(resp.header("retry-after"), "2", "Retry-After not passed on: %r" % resp)
        # The hint (2 s) is above retry.max_delay (200 ms): no wait, one attempt, and the
        # provider cools down, so the next request is a fast 429 without an attempt (R7).
        self.assertEqual(resp.header("x-llmgate-attempts"), "1")
        again, rid2 = self.call("hello again", model="rl-model")
        self.assertEqual(again.status, 429, again)
        self.assertEqual(again.header("x-llmgate-attempts"), "0", again)
        self.assertIn(again.header("retry-after"), ("1", "2"), again)

    def test_html_answer_is_upstream_protocol_error(self):
        resp, rid = self.call('html please FAKELLM{"malformed":"html"}')
        # R18: an HTML 502 page is not the provider's JSON error: a protocol error. The body
        # may appear only truncated under provider_error.
        err = self.assertUpstreamError(resp, rid, 502, "upstream_protocol_error",
                                       provider_error=False)
        self.assertNotIn("<html", resp.text().lower()[:200], "raw HTML at the top of the body")
        pe = err.get("provider_error")
        if isinstance(pe, str):
            self.assertLess(len(pe), 4096, "provider_error should be truncated")

    def test_truncated_json_is_upstream_protocol_error(self):
        resp, rid = self.call('half FAKELLM{"malformed":"truncated_json"}')
        self.assertUpstreamError(resp, rid, 502, "upstream_protocol_error", provider_error=False)

    def test_wrong_content_type_is_upstream_protocol_error(self):
        # A 200 whose JSON body is labelled text/html (R18: wrong content-type).
        resp, rid = self.call('ctype FAKELLM{"malformed":"wrong_content_type"}')
        self.assertUpstreamError(resp, rid, 502, "upstream_protocol_error", provider_error=False)

    def test_reset_before_headers_is_503_upstream_unavailable(self):
        resp, rid = self.call('reset FAKELLM{"reset":"before_headers"}')
        self.assertUpstreamError(resp, rid, 503, "upstream_unavailable", provider_error=False)

    def test_stream_request_errors_before_first_event_keep_their_status(self):
        resp, rid = self.call('busy stream FAKELLM{"status":503}', stream=True)
        self.assertUpstreamError(resp, rid, 503, "upstream_overloaded")

    def test_after_failures_requests_still_succeed(self):
        self.call('FAKELLM{"status":500}')
        resp, rid = self.call("all good now")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("x-request-id"), rid)
        self.assertEqual(resp.header("x-llmgate-provider"), "acme-fake")


class UpstreamHangTest(UpstreamCase):
    @classmethod
    def setUpClass(cls):
        cls.start_stack(HANG_CONFIG)

    def test_hung_provider_is_504_upstream_timeout(self):
        start = time.monotonic()
        resp, rid = self.call('wait forever FAKELLM{"hang":true}')
        elapsed = time.monotonic() - start
        self.assertUpstreamError(resp, rid, 504, "upstream_timeout", provider_error=False,
                                 max_attempts=1)
        self.assertGreaterEqual(elapsed, 0.8 * HANG_TOTAL_S, "answered before timeouts.total")
        self.assertLess(elapsed, HANG_TOTAL_S + 2.0, "not cut at timeouts.total")

    def stream(self, content):
        body = {"model": "gpt-4o-mini", "stream": True,
                "messages": [{"role": "user", "content": content}]}
        return stream_request(self.gate.port, "/v1/chat/completions", body, timeout=15,
                              wait_close=3.0)

    def assertTerminalEvent(self, st, code):
        self.assertEqual(st.status, 200, st.body[:500])
        data = st.data_events
        self.assertGreaterEqual(len(data), 2, "expected chunks before the error: %r" % data)
        self.assertNotIn("[DONE]", [e.data for e in data])
        errors = [e for e in data if '"error"' in e.data]
        self.assertEqual(len(errors), 1, data)
        self.assertIs(errors[0], data[-1], "the error event must be the last one")
        err = errors[0].json()["error"]
        self.assertEqual(err["code"], code, err)
        self.assertEqual(err.get("type"), "upstream_error", err)
        for e in data[:-1]:
            self.assertEqual(e.json().get("object"), "chat.completion.chunk", e)
        self.assertIsNotNone(st.closed_after, "connection stayed open after the terminal event")
        return errors[0]

    def test_stream_over_total_ends_with_upstream_timeout_event(self):
        # Chunks every 200 ms (well inside stream_idle) for ~6 s: total (1 s) cuts it.
        st = self.stream('long FAKELLM{"ttft_ms":100,"tokens_per_sec":5,"answer_words":30}')
        ev = self.assertTerminalEvent(st, "upstream_timeout")
        self.assertGreaterEqual(ev.t, 0.8 * HANG_TOTAL_S)
        self.assertLess(ev.t, HANG_TOTAL_S + 2.0)

    def test_stream_gap_over_stream_idle_ends_with_idle_timeout_event(self):
        # R17 shape: first chunk at 100 ms, then 1 s gaps; stream_idle is 400 ms.
        st = self.stream('gappy FAKELLM{"ttft_ms":100,"tokens_per_sec":1,"answer_words":10}')
        ev = self.assertTerminalEvent(st, "upstream_idle_timeout")
        first = st.data_events[0].t
        self.assertGreaterEqual(ev.t - first, 0.3, "idle timeout fired too early")
        self.assertLess(ev.t - first, 0.4 + 1.0)


if __name__ == "__main__":
    unittest.main()
