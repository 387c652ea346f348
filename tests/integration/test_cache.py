"""The response cache end to end (issue 4; RELIABILITY R35, R41, R42, R44, R45, R69):
L1 hits, header semantics, tenant isolation, streaming replay, coalescing, and L2
through a real redis-server started on a free port."""
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import unittest

from harness import (FakeLLM, GatewayTestCase, Llmgate, free_port, redis_cli, request,
                     stream_request, wait_until)

CONFIG = """\
server: {listen: "127.0.0.1:@PORT@", admin_listen: "127.0.0.1:@APORT@", workers: 2}
clients:
  - {key_env: TEAM_A_KEY, tenant: team-a}
  - {key_env: TEAM_B_KEY, tenant: team-b}
retry: {max_attempts: 1}
failover: {eject_after: 1000}
cache: {mode: deterministic, l1: {max_bytes: 16MiB, ttl: 1h}@REDIS@}
providers:
  - {name: fake, kind: openai, base_url: "http://127.0.0.1:@FPORT@/v1", api_key_env: FAKE_KEY,
     allow_private_network: true, timeouts: {connect: 1s, first_byte: 5s, total: 10s}}
models:
  - {name: gpt-4o-mini, provider: fake, upstream_model: gpt-4o-mini, context_window: 128000,
     price_per_mtok: {input: 0.15, output: 0.6}}
"""
KEY_A = "sk-team-a-cache-test"
KEY_B = "sk-team-b-cache-test"


def start_gate(fake, redis_port=None):
    redis = (', redis: {url: "redis://127.0.0.1:%d/0", ttl: 1h, timeout: 50ms}' % redis_port
             if redis_port else "")
    return Llmgate(CONFIG.replace("@REDIS@", redis), fake=fake,
                   env={"TEAM_A_KEY": KEY_A, "TEAM_B_KEY": KEY_B}).start()


class CacheTest(GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = FakeLLM().start()
        cls.gate = start_gate(cls.fake)

    @classmethod
    def tearDownClass(cls):
        cls.gate.stop()
        cls.fake.stop()

    def ask(self, content, key=KEY_A, temperature=0, cache=None, stream=False, **extra):
        headers = {"authorization": "Bearer " + key}
        if cache is not None:
            headers["x-llmgate-cache"] = cache
        body = {"temperature": temperature}
        body.update(extra)
        return self.gate.chat(content, headers=headers, extra=body, stream=stream)

    def test_repeat_is_an_l1_hit_without_upstream_call(self):
        first = self.ask("cache me once")
        self.assertEqual(first.status, 200, first)
        self.assertEqual(first.header("x-llmgate-cache"), "miss")
        before = self.fake.request_count()
        second = self.ask("cache me once")
        self.assertEqual(second.status, 200, second)
        self.assertEqual(second.header("x-llmgate-cache"), "hit-l1")
        self.assertEqual(second.header("x-llmgate-attempts"), "0")
        self.assertEqual(second.json(), first.json())
        self.assertEqual(self.fake.request_count(), before, "a hit called upstream")

    def test_key_order_and_whitespace_share_a_key(self):
        body = {"model": "gpt-4o-mini", "temperature": 0,
                "messages": [{"role": "user", "content": "same meaning"}]}
        headers = {"authorization": "Bearer " + KEY_A, "content-type": "application/json"}
        a = self.gate.request("POST", "/v1/chat/completions", headers=headers,
                              body=json.dumps(body).encode())
        self.assertEqual(a.header("x-llmgate-cache"), "miss")
        spaced = '{ "messages" : [ {"content":"same meaning","role":"user"} ], "temperature": 0.0,' \
                 ' "model":"gpt-4o-mini" }'
        b = self.gate.request("POST", "/v1/chat/completions", headers=headers, body=spaced.encode())
        self.assertEqual(b.header("x-llmgate-cache"), "hit-l1", b)

    def test_non_deterministic_requests_bypass(self):
        resp = self.ask("creative", temperature=0.9)
        self.assertEqual(resp.header("x-llmgate-cache"), "bypass")
        resp = self.ask("creative", temperature=0.9)
        self.assertEqual(resp.header("x-llmgate-cache"), "bypass")

    def test_r45_header_semantics(self):
        self.assertEqual(self.ask("no store please", cache="no-store").header("x-llmgate-cache"),
                         "miss")
        self.assertEqual(self.ask("no store please").header("x-llmgate-cache"), "miss",
                         "no-store answer was stored")
        self.ask("no cache please")
        resp = self.ask("no cache please", cache="no-cache")
        self.assertEqual(resp.header("x-llmgate-cache"), "bypass")
        resp = self.ask("never seen before", cache="only-if-cached")
        self.assertOpenAIError(resp, 504, "cache_miss", param=None)
        resp = self.ask("anything", cache="sometimes")
        self.assertOpenAIError(resp, 400, "invalid_request_error", param="x-llmgate-cache")

    def test_r69_tenants_never_share_answers(self):
        self.assertEqual(self.ask("tenant scoped").header("x-llmgate-cache"), "miss")
        self.assertEqual(self.ask("tenant scoped", key=KEY_B).header("x-llmgate-cache"), "miss")
        self.assertEqual(self.ask("tenant scoped", key=KEY_B).header("x-llmgate-cache"), "hit-l1")

    def test_r42_stream_is_replayed_from_cache(self):
        first = self.ask("replay me")
        text = first.json()["choices"][0]["message"]["content"]
        body = {"model": "gpt-4o-mini", "temperature": 0, "stream": True,
                "stream_options": {"include_usage": True},
                "messages": [{"role": "user", "content": "replay me"}]}
        st = stream_request(self.gate.port, "/v1/chat/completions", body,
                            headers={"authorization": "Bearer " + KEY_A})
        self.assertEqual(st.status, 200)
        self.assertEqual(st.headers.get("x-llmgate-cache"), "hit-l1")
        self.assertEqual(st.events[-1].data, "[DONE]")
        chunks = [json.loads(e.data) for e in st.events if e.data and e.data != "[DONE]"]
        streamed = "".join(c["choices"][0]["delta"].get("content") or ""
                           for c in chunks if c["choices"])
        self.assertEqual(streamed, text)
        self.assertTrue(any(c.get("usage") for c in chunks), "no usage chunk")

    def test_r41_errors_and_truncated_answers_are_not_stored(self):
        self.ask('fail FAKELLM{"status":500}')
        resp = self.ask('fail FAKELLM{"status":500}', cache="only-if-cached")
        self.assertOpenAIError(resp, 504, "cache_miss", param=None)
        self.ask('cut FAKELLM{"finish_reason":"length"}')
        resp = self.ask('cut FAKELLM{"finish_reason":"length"}', cache="only-if-cached")
        self.assertOpenAIError(resp, 504, "cache_miss", param=None)

    def test_r44_identical_requests_in_flight_share_one_call(self):
        content = 'slow and popular FAKELLM{"latency_ms":600}'
        before = self.fake.request_count()
        results = []

        def one():
            results.append(self.ask(content))
        threads = [threading.Thread(target=one) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        self.assertEqual(len(results), 12)
        self.assertTrue(all(r.status == 200 for r in results), results)
        labels = sorted(r.header("x-llmgate-cache") for r in results)
        self.assertEqual(labels.count("miss"), 1, labels)
        self.assertEqual(self.fake.request_count() - before, 1, "more than one upstream call")
        self.assertEqual(len({json.dumps(r.json(), sort_keys=True) for r in results}), 1)


@unittest.skipUnless(shutil.which("redis-server"), "redis-server is not installed")
class RedisTierTest(GatewayTestCase):
    def start_redis(self, port):
        proc = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                 "--save", "", "--appendonly", "no"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: redis_cli(port, "ping") == "PONG",
                   10, "redis-server to answer PING on port %d" % port)
        return proc

    def test_l2_survives_an_llmgate_restart_and_redis_outage_is_harmless(self):
        port = free_port()
        redis = self.start_redis(port)
        try:
            with FakeLLM() as fake:
                gate = start_gate(fake, port)
                headers = {"authorization": "Bearer " + KEY_A}
                first = gate.chat("shared across replicas", headers=headers,
                                  extra={"temperature": 0})
                self.assertEqual(first.header("x-llmgate-cache"), "miss")
                # The L2 write is asynchronous to the answer: wait for Redis to hold it.
                wait_until(lambda: redis_cli(port, "dbsize") not in ("", "0"), 10,
                           "the L2 write to reach Redis")
                gate.stop()
                gate = start_gate(fake, port)  # empty L1
                deadline = time.monotonic() + 5
                resp = None
                while time.monotonic() < deadline:  # until the worker's Redis connection is up
                    resp = gate.chat("shared across replicas", headers=headers,
                                     extra={"temperature": 0})
                    if resp.header("x-llmgate-cache") == "hit-l2":
                        break
                    time.sleep(0.2)
                self.assertEqual(resp.header("x-llmgate-cache"), "hit-l2", resp)
                self.assertEqual(resp.json(), first.json())
                # R35/R36: Redis stopped (SIGSTOP): requests still succeed, quickly.
                os.kill(redis.pid, signal.SIGSTOP)
                try:
                    for i in range(5):
                        start = time.monotonic()
                        r = gate.chat("while redis hangs %d" % i, headers=headers,
                                      extra={"temperature": 0})
                        self.assertEqual(r.status, 200, r)
                        self.assertLess(time.monotonic() - start, 2.0)
                finally:
                    os.kill(redis.pid, signal.SIGCONT)
                gate.stop()
        finally:
            redis.terminate()
            redis.wait(5)


if __name__ == "__main__":
    unittest.main()
