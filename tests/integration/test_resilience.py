"""Retries, backoff, provider hints, failover, ejection, quota and truncation
(issue 3; ../shared/RELIABILITY.md R1, R2, R5, R6, R7, R9, R10, R19, R22).

Two fake providers, A and B, each a fakellm process. Faults are scripted on
A's queue (POST /_fakellm/script: one behaviour per chat request) so a retry of
the same request can get a different answer. Every test starts its own llmgate:
ejections and cool-downs are process state that must not leak between tests.
"""
import json
import time
import unittest

from harness import FakeLLM, GatewayTestCase, Llmgate, request, stream_request

CONFIG = """\
server: {listen: "127.0.0.1:@PORT@", admin_listen: "127.0.0.1:@APORT@", workers: 2,
         request_header_timeout: 2s, idle_timeout: 3s, drain_timeout: 1s}
retry: {max_attempts: 3, base_delay: 50ms, max_delay: 3s}
failover: {eject_after: 3, eject_for: 30s}
truncation: {action: reprocess, reprocess_on: large}
providers:
  - {name: prov-a, kind: openai, base_url: "http://127.0.0.1:@FPORT@/v1", api_key_env: KEY_A,
     allow_private_network: true, timeouts: {connect: 1s, first_byte: 3s, total: 10s}}
  - {name: prov-b, kind: openai, base_url: "http://127.0.0.1:@BPORT@/v1", api_key_env: KEY_B,
     allow_private_network: true, timeouts: {connect: 1s, first_byte: 3s, total: 10s}}
  - {name: prov-claude, kind: anthropic, base_url: "http://127.0.0.1:@BPORT@/anthropic",
     api_key_env: KEY_B, allow_private_network: true,
     timeouts: {connect: 1s, first_byte: 3s, total: 10s}}
  - {name: prov-dead, kind: openai, base_url: "http://127.0.0.1:@DEADPORT@/v1",
     allow_private_network: true, timeouts: {connect: 1s, first_byte: 3s, total: 10s}}
models:
  - {name: model-a, provider: prov-a, upstream_model: gpt-4o-mini, context_window: 128000,
     fallbacks: [model-b], price_per_mtok: {input: 0.15, output: 0.6}}
  - {name: model-a-only, provider: prov-a, upstream_model: gpt-4o-mini, context_window: 128000,
     price_per_mtok: {input: 0.15, output: 0.6}}
  - {name: model-b, provider: prov-b, upstream_model: gpt-4o-mini, context_window: 128000,
     price_per_mtok: {input: 0.15, output: 0.6}}
  - {name: dead, provider: prov-dead, upstream_model: gpt-4o-mini, context_window: 128000,
     fallbacks: [model-b], price_per_mtok: {input: 0.15, output: 0.6}}
  - {name: dead-only, provider: prov-dead, upstream_model: gpt-4o-mini, context_window: 128000,
     price_per_mtok: {input: 0.15, output: 0.6}}
  - {name: claude, provider: prov-claude, upstream_model: claude-sonnet-4-5,
     context_window: 200000, max_output_tokens: 1024, price_per_mtok: {input: 3, output: 15}}
  - {name: a-then-claude, provider: prov-a, upstream_model: gpt-4o-mini, context_window: 128000,
     fallbacks: [claude], price_per_mtok: {input: 0.15, output: 0.6}}
  - {name: small, provider: prov-a, upstream_model: gpt-4o-mini, context_window: 4096,
     max_output_tokens: 64, price_per_mtok: {input: 0.15, output: 0.6}}
  - {name: large, provider: prov-b, upstream_model: gpt-4o, context_window: 128000,
     max_output_tokens: 4096, price_per_mtok: {input: 2.5, output: 10}}
routes:
  - {name: all-dead, default: [dead-only, model-a-only]}
"""


class ResilienceTest(GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake_a = FakeLLM().start()
        cls.fake_b = FakeLLM().start()

    @classmethod
    def tearDownClass(cls):
        cls.fake_a.stop()
        cls.fake_b.stop()

    def setUp(self):
        for fake in (self.fake_a, self.fake_b):
            fake.assert_alive()
            request(fake.port, "DELETE", "/_fakellm/script", timeout=5)
            fake.reset()
        template = CONFIG.replace("@BPORT@", str(self.fake_b.port))
        self.gate = Llmgate(template, fake=self.fake_a,
                            env={"KEY_A": "sk-key-of-a", "KEY_B": "sk-key-of-b"}).start()

    def tearDown(self):
        self.gate.assert_healthy()
        self.gate.stop()

    def script_a(self, *behaviours):
        resp = request(self.fake_a.port, "POST", "/_fakellm/script",
                       body=json.dumps({"behaviours": list(behaviours)}).encode(), timeout=5)
        self.assertEqual(resp.status, 200, resp)

    def chat(self, model, content="hello", **kw):
        start = time.monotonic()
        resp = self.gate.chat(content, model=model, **kw)
        return resp, time.monotonic() - start

    def test_r1_connection_refused_fails_over_at_once(self):
        resp, elapsed = self.chat("dead")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("x-llmgate-provider"), "prov-b")
        self.assertEqual(resp.header("x-llmgate-model"), "model-b")
        self.assertEqual(resp.header("x-llmgate-attempts"), "2")
        self.assertLess(elapsed, 1.0, "a refused connection needs no backoff before failover")

    def test_r2_all_targets_refuse_is_503_naming_each(self):
        # all-dead = [dead-only (refused), model-a-only (A answers 503 every time)]
        self.script_a({"status": 503}, {"status": 503}, {"status": 503}, {"status": 503})
        resp, _ = self.chat("all-dead")
        err = self.assertOpenAIError(resp, 503, "upstream_overloaded", param=None)
        self.assertIn("dead-only (prov-dead)", err["message"])
        self.assertIn("model-a-only (prov-a)", err["message"])
        self.assertLessEqual(int(resp.header("x-llmgate-attempts")), 1 + 3)

    def test_r5_500_then_200_is_retried_on_the_same_provider(self):
        self.script_a({"status": 500})
        resp, elapsed = self.chat("model-a-only")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("x-llmgate-attempts"), "2")
        self.assertEqual(resp.header("x-llmgate-provider"), "prov-a")
        self.assertLess(elapsed, 0.1 + 1.0, "backoff before the 2nd attempt is at most base*2")
        self.assertEqual(self.fake_a.request_count(), 2)

    def test_r6_retry_after_is_honoured(self):
        self.script_a({"status": 429, "retry_after": "1"})
        resp, elapsed = self.chat("model-a-only")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("x-llmgate-attempts"), "2")
        self.assertGreaterEqual(elapsed, 1.0, "retried before Retry-After")
        self.assertLess(elapsed, 1.5 + 0.5, "retried much later than Retry-After")

    def test_r6_retry_after_ms_and_http_date(self):
        self.script_a({"status": 503, "headers": {"retry-after-ms": "600"}})
        resp, elapsed = self.chat("model-a-only")
        self.assertEqual(resp.status, 200, resp)
        self.assertGreaterEqual(elapsed, 0.6)
        self.script_a({"status": 429, "retry_after": "http-date+2"})
        resp, elapsed = self.chat("model-a-only")
        self.assertEqual(resp.status, 200, resp)
        self.assertGreaterEqual(elapsed, 0.9, "HTTP-date Retry-After ignored")  # 1 s resolution

    def test_r7_long_retry_after_fails_over_and_cools_the_provider_down(self):
        self.script_a({"status": 429, "retry_after": "120"})
        resp, elapsed = self.chat("model-a")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("x-llmgate-provider"), "prov-b")
        self.assertLess(elapsed, 1.0, "waited on a Retry-After above max_delay")
        before = self.fake_a.request_count()
        resp, _ = self.chat("model-a")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("x-llmgate-attempts"), "1", "the cooled provider was tried")
        self.assertEqual(self.fake_a.request_count(), before)
        # With no other target the client gets a 429 and the remaining wait.
        resp, _ = self.chat("model-a-only")
        self.assertOpenAIError(resp, 429, "rate_limited", param=None)
        self.assertGreater(int(resp.header("retry-after")), 100)

    def test_proactive_pacing_on_remaining_zero(self):
        self.script_a({"headers": {"x-ratelimit-remaining-requests": "0",
                                   "x-ratelimit-reset-requests": "30s"}})
        resp, _ = self.chat("model-a")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("x-llmgate-provider"), "prov-a")
        before = self.fake_a.request_count()
        resp, _ = self.chat("model-a")
        self.assertEqual(resp.header("x-llmgate-provider"), "prov-b", "did not pace away from A")
        self.assertEqual(self.fake_a.request_count(), before)

    def test_r9_quota_exhaustion_disables_the_provider_without_retry(self):
        self.script_a({"status": 429, "error_type": "insufficient_quota"})
        resp, _ = self.chat("model-a")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("x-llmgate-provider"), "prov-b")
        self.assertEqual(self.fake_a.request_count(), 1, "quota exhaustion was retried")
        resp, _ = self.chat("model-a-only")
        err = self.assertOpenAIError(resp, 503, "no_healthy_upstream", param=None)
        self.assertIn("quota", err["message"])

    def test_r9_quota_with_no_other_target_is_not_retryable(self):
        self.script_a({"status": 402})
        resp, _ = self.chat("model-a-only")
        self.assertOpenAIError(resp, 402, "upstream_quota_exhausted", param=None)
        self.assertIsNone(resp.header("retry-after"))
        self.assertEqual(resp.header("x-llmgate-attempts"), "1")

    def test_r10_client_errors_are_not_retried_or_failed_over(self):
        self.script_a({"status": 400})
        resp, _ = self.chat("model-a")
        self.assertOpenAIError(resp, 400, "upstream_invalid_request", param=None)
        self.assertEqual(resp.header("x-llmgate-attempts"), "1")
        self.assertEqual(self.fake_b.request_count(), 0)

    def test_r10_provider_auth_failure_fails_over(self):
        self.script_a({"status": 401})
        resp, _ = self.chat("model-a")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("x-llmgate-provider"), "prov-b")
        # R78: B got only its own key.
        last = self.fake_b.stats()["last_requests"][-1]
        self.assertEqual(last["headers"].get("authorization"), "Bearer sk-key-of-b")

    def test_r19_consecutive_failures_eject_the_target(self):
        # Each request: A answers 503 (3 attempts with max_attempts 3 would retry A, so
        # script exactly eject_after failures), then B serves.
        self.script_a({"status": 503}, {"status": 503}, {"status": 503})
        resp, _ = self.chat("model-a")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("x-llmgate-provider"), "prov-b")
        self.assertEqual(self.fake_a.request_count(), 3)
        # A is ejected now: the next requests go to B without touching A.
        for _ in range(3):
            resp, _ = self.chat("model-a")
            self.assertEqual(resp.header("x-llmgate-provider"), "prov-b")
            self.assertEqual(resp.header("x-llmgate-attempts"), "1")
        self.assertEqual(self.fake_a.request_count(), 3)

    def test_r22_every_target_ejected_fails_fast_with_retry_after(self):
        self.script_a({"status": 503}, {"status": 503}, {"status": 503})
        resp, _ = self.chat("model-a-only")
        self.assertOpenAIError(resp, 503, "upstream_overloaded", param=None)
        start = time.monotonic()
        resp, _ = self.chat("model-a-only")
        err = self.assertOpenAIError(resp, 503, "no_healthy_upstream", param=None)
        self.assertLess(time.monotonic() - start, 0.5)
        self.assertIn("ejected", err["message"])
        self.assertTrue(25 <= int(resp.header("retry-after")) <= 30, resp)

    def test_stream_fails_over_invisibly_before_the_first_byte(self):
        self.script_a({"status": 503}, {"status": 503}, {"status": 503})
        body = {"model": "model-a", "stream": True,
                "messages": [{"role": "user", "content": "stream please"}]}
        st = stream_request(self.gate.port, "/v1/chat/completions", body)
        self.assertEqual(st.status, 200)
        self.assertEqual(st.headers.get("x-llmgate-provider"), "prov-b")
        self.assertEqual(st.headers.get("x-llmgate-attempts"), "4")
        self.assertEqual(st.events[-1].data, "[DONE]")
        self.assertFalse(any('"error"' in (e.data or "") for e in st.events))

    def test_r24_failover_to_anthropic_is_normalized_to_openai(self):
        self.script_a({"status": 503}, {"status": 503}, {"status": 503})
        resp, _ = self.chat("a-then-claude", "be brief")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("x-llmgate-provider"), "prov-claude")
        answer = resp.json()
        self.assertEqual(answer["object"], "chat.completion")
        self.assertEqual(answer["choices"][0]["message"]["role"], "assistant")
        self.assertTrue(answer["choices"][0]["message"]["content"])
        self.assertEqual(answer["choices"][0]["finish_reason"], "stop")
        usage = answer["usage"]
        self.assertEqual(usage["total_tokens"], usage["prompt_tokens"] + usage["completion_tokens"])
        sent = self.fake_b.stats()["last_requests"][-1]
        self.assertEqual(sent["path"], "/anthropic/v1/messages")
        self.assertEqual(sent["headers"].get("x-api-key"), "sk-key-of-b")
        self.assertEqual(sent["headers"].get("anthropic-version"), "2023-06-01")
        self.assertNotIn("authorization", sent["headers"])
        self.assertEqual(sent["body"]["max_tokens"], 1024)

    def test_r24_anthropic_tool_calls_survive_the_round_trip(self):
        tools = [{"type": "function", "function": {
            "name": "get_weather", "description": "weather",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                           "required": ["city"]}}}]
        content = 'weather in Paris? FAKELLM{"tool_call":true}'
        resp, _ = self.chat("claude", content, extra={"tools": tools})
        self.assertEqual(resp.status, 200, resp)
        choice = resp.json()["choices"][0]
        self.assertEqual(choice["finish_reason"], "tool_calls")
        call = choice["message"]["tool_calls"][0]
        self.assertEqual(call["function"]["name"], "get_weather")
        self.assertIsInstance(json.loads(call["function"]["arguments"]), dict)
        sent = self.fake_b.stats()["last_requests"][-1]["body"]
        self.assertEqual(sent["tools"][0]["name"], "get_weather")
        self.assertIn("input_schema", sent["tools"][0])
        # Streamed: tool-call deltas accumulate by index into the same call.
        body = {"model": "claude", "stream": True, "tools": tools,
                "messages": [{"role": "user", "content": content}]}
        st = stream_request(self.gate.port, "/v1/chat/completions", body)
        self.assertEqual(st.status, 200)
        self.assertEqual(st.events[-1].data, "[DONE]")
        name, arguments, finish = None, "", None
        for e in st.events[:-1]:
            chunk = json.loads(e.data)
            self.assertEqual(chunk["object"], "chat.completion.chunk")
            for c in chunk["choices"]:
                for tc in c["delta"].get("tool_calls") or []:
                    name = tc.get("function", {}).get("name") or name
                    arguments += tc.get("function", {}).get("arguments") or ""
                finish = c.get("finish_reason") or finish
        self.assertEqual(name, "get_weather")
        self.assertIsInstance(json.loads(arguments), dict)
        self.assertEqual(finish, "tool_calls")

    def test_r24_streamed_failover_to_anthropic(self):
        self.script_a({"status": 503}, {"status": 503}, {"status": 503})
        body = {"model": "a-then-claude", "stream": True,
                "stream_options": {"include_usage": True},
                "messages": [{"role": "user", "content": "stream from claude"}]}
        st = stream_request(self.gate.port, "/v1/chat/completions", body)
        self.assertEqual(st.status, 200)
        self.assertEqual(st.headers.get("x-llmgate-provider"), "prov-claude")
        self.assertEqual(st.events[-1].data, "[DONE]")
        chunks = [json.loads(e.data) for e in st.events[:-1] if e.data]
        self.assertEqual(chunks[0]["choices"][0]["delta"]["role"], "assistant")
        text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
        self.assertTrue(text.strip())
        self.assertEqual([c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1],
                         "stop")
        self.assertEqual(chunks[-1]["choices"], [])
        self.assertGreater(chunks[-1]["usage"]["completion_tokens"], 0)

    def test_truncated_answer_is_reprocessed_on_the_larger_model(self):
        self.script_a({"finish_reason": "length"})
        resp, _ = self.chat("small")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("x-llmgate-model"), "large")
        self.assertEqual(resp.header("x-llmgate-attempts"), "2")
        self.assertIsNone(resp.header("x-llmgate-truncated"))
        self.assertEqual(resp.json()["choices"][0]["finish_reason"], "stop")
        # The reprocess asked the larger model for its own output limit.
        sent = self.fake_b.stats()["last_requests"][-1]["body"]
        self.assertEqual(sent["max_tokens"], 4096)
        self.assertEqual(sent["model"], "gpt-4o")

    def test_max_tokens_is_always_explicit_and_fits_the_window(self):
        resp, _ = self.chat("small")
        self.assertEqual(resp.status, 200, resp)
        sent = self.fake_a.stats()["last_requests"][-1]["body"]
        self.assertEqual(sent["max_tokens"], 64)
        resp, _ = self.chat("small", extra={"max_tokens": 10})
        self.assertEqual(self.fake_a.stats()["last_requests"][-1]["body"]["max_tokens"], 10)


if __name__ == "__main__":
    unittest.main()


PING_CONFIG = """\
server: {listen: "127.0.0.1:@PORT@", admin_listen: "127.0.0.1:@APORT@", workers: 1}
providers:
  - {name: prov-a, kind: openai, base_url: "http://127.0.0.1:@FPORT@/v1",
     allow_private_network: true, keepalive_ping: {interval: 1s, model: cheap}}
models:
  - {name: cheap, provider: prov-a, upstream_model: gpt-4o-mini, context_window: 128000,
     price_per_mtok: {input: 0.15, output: 0.6}}
"""


class KeepalivePingTest(GatewayTestCase):
    def test_idle_provider_gets_a_one_token_ping(self):
        with FakeLLM() as fake, Llmgate(PING_CONFIG, fake=fake) as gate:
            def pings():
                return [r for r in fake.stats()["last_requests"]
                        if isinstance(r.get("body"), dict) and r["body"].get("max_tokens") == 1]
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and not pings():
                time.sleep(0.1)
            found = pings()
            self.assertTrue(found, "no keep-alive ping within 5 s of idling with interval 1s")
            self.assertEqual(found[0]["body"]["model"], "gpt-4o-mini")
            self.assertEqual(found[0]["body"]["messages"][0]["content"], "ping")
            gate.assert_healthy()


BLACKHOLE_CONFIG = """\
server: {listen: "127.0.0.1:@PORT@", admin_listen: "127.0.0.1:@APORT@", workers: 1}
retry: {max_attempts: 1}
providers:
  - {name: blackhole, kind: openai, base_url: "http://127.0.0.1:@HOLEPORT@/v1",
     allow_private_network: true, timeouts: {connect: 1s, first_byte: 3s, total: 10s}}
  - {name: prov-b, kind: openai, base_url: "http://127.0.0.1:@FPORT@/v1",
     allow_private_network: true}
models:
  - {name: hole, provider: blackhole, upstream_model: gpt-4o-mini, context_window: 128000}
  - {name: hole-then-b, provider: blackhole, upstream_model: gpt-4o-mini,
     context_window: 128000, fallbacks: [b]}
  - {name: b, provider: prov-b, upstream_model: gpt-4o-mini, context_window: 128000}
"""


class ConnectBlackholeTest(GatewayTestCase):
    """R3 on loopback: a listener that never accepts, its accept queue filled,
    so the kernel drops further SYNs and connect() hangs."""

    def test_r3_connect_is_cut_at_the_connect_timeout(self):
        import socket
        hole = socket.socket()
        hole.bind(("127.0.0.1", 0))
        hole.listen(0)
        port = hole.getsockname()[1]
        fillers = []
        try:
            for _ in range(4):  # fill the accept queue (backlog 0 still holds one or two)
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", port))
                fillers.append(s)
            time.sleep(0.2)
            with FakeLLM() as fake, Llmgate(BLACKHOLE_CONFIG.replace("@HOLEPORT@", str(port)),
                                            fake=fake) as gate:
                start = time.monotonic()
                resp = gate.chat("into the void", model="hole")
                elapsed = time.monotonic() - start
                self.assertOpenAIError(resp, 504, "upstream_connect_timeout", param=None)
                self.assertGreaterEqual(elapsed, 0.9)
                self.assertLess(elapsed, 2.5, "not cut at timeouts.connect (1 s)")
                resp = gate.chat("into the void, then b", model="hole-then-b")
                self.assertEqual(resp.status, 200, resp)
                self.assertEqual(resp.header("x-llmgate-provider"), "prov-b")
        finally:
            for s in fillers:
                s.close()
            hole.close()
