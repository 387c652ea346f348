"""One tenant budget enforced by two llmgate processes sharing one redis-server
(issue 5; RELIABILITY R46): the sum served stays within the budget, refusals
are 429 budget_exceeded with Retry-After, the per-minute window works the same
way, and with Redis gone a tenant with a budget is refused (fail closed) while
one without a budget is still served."""
import shutil
import subprocess
import threading
import time
import unittest

from harness import FakeLLM, GatewayTestCase, Llmgate, free_port, redis_cli, wait_until

CONFIG = """\
server: {listen: "127.0.0.1:@PORT@", admin_listen: "127.0.0.1:@APORT@", workers: 1}
clients:
  - {key_env: TIGHT_KEY, tenant: tight, budget: {usd_per_day: 0.2}}
  - {key_env: BURST_KEY, tenant: burst, budget: {usd_per_day: 100, usd_per_minute: 0.1}}
  - {key_env: PROBE_KEY, tenant: probe, budget: {usd_per_day: 1000}}
  - {key_env: STREAM_KEY, tenant: streamer, budget: {usd_per_day: 0.1}}
  - {key_env: FREE_KEY, tenant: free}
retry: {max_attempts: 1}
failover: {eject_after: 1000}
cache: {mode: "off", redis: {url: "redis://127.0.0.1:@REDISPORT@/0", timeout: 500ms}}
providers:
  - {name: fake, kind: openai, base_url: "http://127.0.0.1:@FPORT@/v1", api_key_env: FAKE_KEY,
     allow_private_network: true}
models:
  # fakellm answers 24 words = 24 completion tokens: 0.024 USD each; a request
  # with max_tokens 30 reserves 0.03 USD.
  - {name: priced, provider: fake, context_window: 128000,
     price_per_mtok: {input: 0, output: 1000}}
"""
KEYS = {"TIGHT_KEY": "sk-tight-budget-test", "BURST_KEY": "sk-burst-budget-test",
        "PROBE_KEY": "sk-probe-budget-test", "FREE_KEY": "sk-free-budget-test",
        "STREAM_KEY": "sk-stream-budget-test"}


@unittest.skipUnless(shutil.which("redis-server"), "redis-server is not installed")
class SharedBudgetTest(GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        cls.redis_port = free_port()
        cls.redis = subprocess.Popen(
            ["redis-server", "--port", str(cls.redis_port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: redis_cli(cls.redis_port, "ping") == "PONG", 10,
                   "redis-server to answer PING")
        cls.fake = FakeLLM().start()
        config = CONFIG.replace("@REDISPORT@", str(cls.redis_port))
        cls.gates = [Llmgate(config, fake=cls.fake, env=KEYS).start() for _ in range(2)]
        cls.gate = None
        for gate in cls.gates:  # both connected to Redis before the test starts
            wait_until(lambda: cls.ask(gate, "PROBE_KEY").status == 200, 10,
                       "llmgate to reach Redis")

    @classmethod
    def tearDownClass(cls):
        for gate in cls.gates:
            gate.stop()
        cls.fake.stop()
        if cls.redis.poll() is None:
            cls.redis.terminate()
            cls.redis.wait(5)

    @staticmethod
    def ask(gate, key, content="budget please"):
        return gate.chat(content, model="priced", headers={"authorization": "Bearer " + KEYS[key]},
                         extra={"max_tokens": 30})

    def spend_concurrently(self, key, total):
        results = []
        lock = threading.Lock()

        def one(i):
            r = self.ask(self.gates[i % 2], key, "request %d" % i)
            with lock:
                results.append(r)

        threads = [threading.Thread(target=one, args=(i,)) for i in range(total)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        return results

    def test_1_two_sidecars_enforce_one_daily_budget(self):
        results = self.spend_concurrently("TIGHT_KEY", 24)
        served = [r for r in results if r.status == 200]
        refused = [r for r in results if r.status == 429]
        self.assertEqual(len(served) + len(refused), 24, [r.status for r in results])
        spent = sum(float(r.header("x-llmgate-cost-usd")) for r in served)
        self.assertLessEqual(spent, 0.2 + 1e-9, "the fleet overspent: %.4f USD" % spent)
        # A single process would have served 8 alone; both together serve no more.
        self.assertGreaterEqual(len(served), 6)
        self.assertLessEqual(len(served), 8)
        for r in refused:
            self.assertOpenAIError(r, 429, "budget_exceeded")
            self.assertGreater(int(r.header("retry-after")), 0)
        # Both processes served and refused from the same counter.
        key = [k for k in redis_cli(self.redis_port, "--scan", "--pattern",
                                    "llmgate:budget:tight:d:*").split() if k]
        self.assertEqual(len(key), 1, key)
        self.assertAlmostEqual(float(redis_cli(self.redis_port, "get", key[0])), spent, places=6)
        ttl = int(redis_cli(self.redis_port, "ttl", key[0]))
        self.assertTrue(0 < ttl <= 90000, ttl)
        # Later requests on either process are refused too.
        for gate in self.gates:
            self.assertOpenAIError(self.ask(gate, "TIGHT_KEY"), 429, "budget_exceeded")

    def test_2_per_minute_window(self):
        if time.time() % 60 > 50:  # keep the burst inside one UTC minute
            time.sleep(61 - time.time() % 60)
        results = self.spend_concurrently("BURST_KEY", 8)
        served = [r for r in results if r.status == 200]
        spent = sum(float(r.header("x-llmgate-cost-usd")) for r in served)
        self.assertLessEqual(spent, 0.1 + 1e-9)
        self.assertGreaterEqual(len(served), 2)
        refused = [r for r in results if r.status == 429]
        self.assertTrue(refused)
        for r in refused:
            self.assertOpenAIError(r, 429, "budget_exceeded")
            self.assertIn("per-minute", r.json()["error"]["message"])
            self.assertLessEqual(int(r.header("retry-after")), 60)

    def test_2b_streams_without_usage_are_charged_their_estimate(self):
        # No stream_options.include_usage: the client's stream carries no
        # usage, so each answer is charged its reservation (0.03 USD).
        statuses = []
        for i in range(5):
            r = self.gates[i % 2].chat("stream %d" % i, model="priced", stream=True,
                                       headers={"authorization": "Bearer " + KEYS["STREAM_KEY"]},
                                       extra={"max_tokens": 30})
            statuses.append(r.status)
        self.assertEqual(statuses, [200, 200, 200, 429, 429])

    def test_3_redis_down_fails_closed_for_budgeted_tenants_only(self):
        self.redis.terminate()
        self.redis.wait(5)
        for gate in self.gates:
            r = self.ask(gate, "PROBE_KEY")
            self.assertOpenAIError(r, 503, "budget_unavailable")
            self.assertEqual(r.header("retry-after"), "1")
            self.assertEqual(self.ask(gate, "FREE_KEY").status, 200)


if __name__ == "__main__":
    unittest.main()
