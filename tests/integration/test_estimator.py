"""The token estimator converges on the provider's real token counts (issue
5): fakellm counts ceil(code points / 4) + 4 per message, which for Russian
prose is well below llmgate's uncalibrated 0.33 token per Cyrillic letter.
After some answers with `usage`, llmgate_token_estimate_accuracy (calibrated
estimate / actual prompt tokens of the latest answer) approaches 1."""
import random
import unittest

from harness import FakeLLM, GatewayTestCase, Llmgate

CONFIG = """\
server: {listen: "127.0.0.1:@PORT@", admin_listen: "127.0.0.1:@APORT@", workers: 1}
retry: {max_attempts: 1}
cache: {mode: "off"}
providers:
  - {name: fake, kind: openai, base_url: "http://127.0.0.1:@FPORT@/v1", api_key_env: FAKE_KEY,
     allow_private_network: true}
models:
  - {name: calibrated, provider: fake, context_window: 128000}
"""
WORDS = ("привет мир сегодня хорошая погода давайте поговорим о книгах музыке истории "
         "science природе городе работе").split()


class EstimatorConvergenceTest(GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = FakeLLM().start()
        cls.gate = Llmgate(CONFIG, fake=cls.fake).start()

    @classmethod
    def tearDownClass(cls):
        cls.gate.stop()
        cls.fake.stop()

    def accuracy(self):
        for line in self.gate.admin("GET", "/metrics").text().splitlines():
            if line.startswith('llmgate_token_estimate_accuracy{model="calibrated"}'):
                return float(line.rsplit(" ", 1)[1])
        return None

    def test_estimate_converges_on_fakellm_counts(self):
        rng = random.Random(5)
        prompt = lambda: " ".join(rng.choice(WORDS) for _ in range(rng.randint(60, 200)))
        self.assertIsNone(self.accuracy())
        history = []
        for _ in range(40):
            r = self.gate.chat(prompt(), model="calibrated")
            self.assertEqual(r.status, 200, r.text())
            history.append(self.accuracy())
        first, last = history[0], history[-1]
        print("\nestimate accuracy: first %.3f, 10th %.3f, 20th %.3f, last %.3f" % (
            first, history[9], history[19], last))
        # Uncalibrated, llmgate overestimates Russian for this tokenizer by > 15 %.
        self.assertGreater(abs(first - 1), 0.15, history)
        # Calibrated, the latest estimates are within 5 % of the real count.
        for value in history[-5:]:
            self.assertLess(abs(value - 1), 0.05, history)
        self.assertLess(abs(last - 1), abs(first - 1) / 3, history)


if __name__ == "__main__":
    unittest.main()
