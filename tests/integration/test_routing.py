"""Route rules end to end (issue 5; docs/ROUTING.md "Rule language"): every
condition of `routes[].rules[].when` chooses the target through a real llmgate
and fakellm, the x-llmgate-route header names the rule and what matched, a
weighted split is deterministic per request id, and GET /v1/models shows the
rules."""
import unittest

from harness import FakeLLM, GatewayTestCase, Llmgate

CONFIG = """\
server: {listen: "127.0.0.1:@PORT@", admin_listen: "127.0.0.1:@APORT@", workers: 1}
clients:
  - {key_env: ACME_KEY, tenant: acme}
  - {key_env: OTHER_KEY, tenant: other}
  - {key_env: THRIFTY_KEY, tenant: thrifty, budget: {usd_per_day: 0.05, low_at_percent: 50}}
retry: {max_attempts: 1}
failover: {eject_after: 1000}
cache: {mode: "off"}
providers:
  - {name: fake, kind: openai, base_url: "http://127.0.0.1:@FPORT@/v1", api_key_env: FAKE_KEY,
     allow_private_network: true}
models:
  - {name: m-default, provider: fake, context_window: 128000}
  - {name: m-long, provider: fake, context_window: 128000}
  - {name: m-tools, provider: fake, context_window: 128000}
  - {name: m-schema, provider: fake, context_window: 128000}
  - {name: m-acme, provider: fake, context_window: 128000}
  - {name: m-translate, provider: fake, context_window: 128000}
  - {name: m-cheap, provider: fake, context_window: 128000}
  - {name: m-expensive, provider: fake, context_window: 128000,
     price_per_mtok: {input: 1000, output: 1000}}
  - {name: m-a, provider: fake, context_window: 128000}
  - {name: m-b, provider: fake, context_window: 128000}
routes:
  - name: auto
    rules:
      - {when: {min_prompt_tokens: 2000}, targets: [m-long]}
      - {when: {tools: true}, targets: [m-tools]}
      - {when: {response_format: [json_schema]}, targets: [m-schema]}
      - {when: {last_user_message: "(?i)\\\\btranslate\\\\b|翻译"}, targets: [m-translate]}
      - {when: {tenant: [acme], max_prompt_tokens: 100}, targets: [m-acme]}
      - {when: {budget: low}, targets: [m-cheap]}
    default: [m-default]
  - name: ab
    rules:
      - when: {tenant: [acme, other]}
        split: [{weight: 90, targets: [m-a]}, {weight: 10, targets: [m-b]}]
    default: [m-default]
  - name: spendy
    default: [m-expensive]
"""
KEYS = {"ACME_KEY": "sk-acme-route-test", "OTHER_KEY": "sk-other-route-test",
        "THRIFTY_KEY": "sk-thrifty-route-test"}


def auth(env_name):
    return {"authorization": "Bearer " + KEYS[env_name]}


class RoutingRulesTest(GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = FakeLLM().start()
        cls.gate = Llmgate(CONFIG, fake=cls.fake, env=KEYS).start()

    @classmethod
    def tearDownClass(cls):
        cls.gate.stop()
        cls.fake.stop()

    def route(self, content, key="OTHER_KEY", model="auto", extra=None, headers=None):
        h = auth(key)
        h.update(headers or {})
        r = self.gate.chat(content, model=model, headers=h, extra=extra)
        self.assertEqual(r.status, 200, r.text())
        return r.header("x-llmgate-model"), r.header("x-llmgate-route")

    def test_default_when_nothing_matches(self):
        self.assertEqual(self.route("hello there"), ("m-default", "auto; default"))

    def test_long_prompt(self):
        model, label = self.route("lorem ipsum dolor sit amet " * 400)
        self.assertEqual(model, "m-long")
        self.assertRegex(label, r"^auto; rule=1; prompt_tokens=\d+>=2000$")

    def test_tools(self):
        tools = [{"type": "function", "function": {"name": "get_time",
                                                   "parameters": {"type": "object"}}}]
        self.assertEqual(self.route("what time is it", extra={"tools": tools}),
                         ("m-tools", "auto; rule=2; tools"))

    def test_response_format_type(self):
        schema = {"type": "json_schema",
                  "json_schema": {"name": "x", "schema": {"type": "object"}}}
        self.assertEqual(self.route("give me an object", extra={"response_format": schema}),
                         ("m-schema", "auto; rule=3; response_format=json_schema"))
        # json_object is not in the rule's list: falls through to the default.
        model, _ = self.route("give me an object",
                              extra={"response_format": {"type": "json_object"}})
        self.assertEqual(model, "m-default")

    def test_regex_on_last_user_message(self):
        self.assertEqual(self.route("Please translate this into French"),
                         ("m-translate", "auto; rule=4; last_user_message"))
        self.assertEqual(self.route("请翻译：你好")[0], "m-translate")
        # Only the LAST user message counts.
        r = self.gate.chat("ignored", model="auto", headers=auth("OTHER_KEY"), extra={
            "messages": [{"role": "user", "content": "translate this"},
                         {"role": "assistant", "content": "ok"},
                         {"role": "user", "content": "never mind"}]})
        self.assertEqual(r.header("x-llmgate-model"), "m-default")

    def test_tenant_and_size_together(self):
        model, label = self.route("hi", key="ACME_KEY")
        self.assertEqual(model, "m-acme")
        self.assertRegex(label, r"^auto; rule=5; prompt_tokens=\d+<=100; tenant=acme$")
        # The same tenant with a prompt over 100 tokens: the AND fails.
        self.assertEqual(self.route("word " * 300, key="ACME_KEY")[0], "m-default")

    def test_budget_low_steers_to_the_cheap_model(self):
        self.assertEqual(self.route("hello", key="THRIFTY_KEY")[0], "m-default")
        # Spend over half of the 0.05 USD budget on the expensive model
        # (24 output words at 1000 USD per million = 0.024 USD, plus input).
        r = self.gate.chat("spend", model="spendy", headers=auth("THRIFTY_KEY"),
                           extra={"max_tokens": 30})
        self.assertEqual(r.status, 200, r.text())
        self.assertGreater(float(r.header("x-llmgate-cost-usd")), 0.025)
        self.assertEqual(self.route("hello", key="THRIFTY_KEY"),
                         ("m-cheap", "auto; rule=6; budget=low"))

    def test_weighted_split_is_deterministic_per_request_id(self):
        seen = {}
        for i in range(200):
            model, label = self.route("hello", model="ab",
                                      headers={"x-request-id": "split-test-%d" % i})
            seen.setdefault(model, 0)
            seen[model] += 1
            self.assertIn(label, ("ab; rule=1; tenant=other; split=1/2",
                                  "ab; rule=1; tenant=other; split=2/2"))
            again, _ = self.route("hello again", model="ab",
                                  headers={"x-request-id": "split-test-%d" % i})
            self.assertEqual(again, model, "the same request id took another arm")
        self.assertEqual(set(seen), {"m-a", "m-b"})
        self.assertGreater(seen["m-a"], 150)
        self.assertGreater(seen["m-b"], 5)

    def test_usd_per_1k_chars_metric(self):
        for content in ("这是一个关于成本的中文问题，请简单回答。" * 5,
                        "This is an English question about cost, answer briefly. " * 5):
            r = self.gate.chat(content, model="spendy", headers=auth("OTHER_KEY"))
            self.assertEqual(r.status, 200, r.text())
        text = self.gate.admin("GET", "/metrics").text()
        values = {}
        for line in text.splitlines():
            if line.startswith("llmgate_usd_per_1k_chars{"):
                labels, value = line.rsplit(" ", 1)
                values[labels] = float(value)
        cjk = values.get('llmgate_usd_per_1k_chars{model="m-expensive",script="cjk"}')
        latin = values.get('llmgate_usd_per_1k_chars{model="m-expensive",script="latin"}')
        self.assertIsNotNone(cjk, values)
        self.assertIsNotNone(latin, values)
        # 1000 USD per million input tokens: between 0.01 and 2 USD per 1000 characters.
        for v in (cjk, latin):
            self.assertGreater(v, 0.01)
            self.assertLess(v, 2.0)

    def test_models_lists_rules_and_splits(self):
        r = self.gate.request("GET", "/v1/models", headers=auth("OTHER_KEY"))
        self.assertEqual(r.status, 200)
        by_id = {m["id"]: m for m in r.json()["data"]}
        rules = by_id["auto"]["llmgate"]["rules"]
        self.assertEqual(rules[0]["when"], {"min_prompt_tokens": 2000})
        self.assertEqual(rules[2]["when"], {"response_format": ["json_schema"]})
        self.assertEqual(rules[4]["when"], {"tenant": ["acme"], "max_prompt_tokens": 100})
        self.assertEqual(rules[5]["when"], {"budget": "low"})
        self.assertEqual(rules[5]["targets"], ["m-cheap"])
        split = by_id["ab"]["llmgate"]["rules"][0]["split"]
        self.assertEqual(split, [{"weight": 90, "targets": ["m-a"]},
                                 {"weight": 10, "targets": ["m-b"]}])
        self.assertEqual(by_id["auto"]["llmgate"]["default"], ["m-default"])


if __name__ == "__main__":
    unittest.main()
