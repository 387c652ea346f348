"""Metric families that are fed at scrape time or by routing/budget events
(issue 6): route decisions by rule, budget refusals and spend per configured
tenant, L1 entries and bytes, upstream connections, the ejected gauge."""
import re
import unittest

from harness import FakeLLM, GatewayTestCase, Llmgate

CONFIG = """\
server: {listen: "127.0.0.1:@PORT@", admin_listen: "127.0.0.1:@APORT@", workers: 1}
clients:
  - {key_env: RICH_KEY, tenant: rich}
  - {key_env: POOR_KEY, tenant: poor, budget: {usd_per_day: 0.0000001}}
retry: {max_attempts: 1}
failover: {eject_after: 1, eject_for: 30s}
providers:
  - {name: fake, kind: openai, base_url: "http://127.0.0.1:@FPORT@/v1", api_key_env: FAKE_KEY,
     allow_private_network: true}
models:
  - {name: gpt-4o-mini, provider: fake, context_window: 128000,
     price_per_mtok: {input: 0.15, output: 0.6}}
  - {name: flaky, provider: fake, context_window: 128000}
routes:
  - name: auto
    rules:
      - {when: {task: [code]}, targets: [gpt-4o-mini]}
    default: [gpt-4o-mini]
"""


def value(text, name, **labels):
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all('%s="%s"' % (k, v) in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


class MetricsTest(GatewayTestCase):
    def test_scrape_time_and_event_families(self):
        with FakeLLM() as fake, Llmgate(CONFIG, fake=fake,
                                        env={"RICH_KEY": "sk-rich-1", "POOR_KEY": "sk-poor-1"}) as gate:
            rich = {"authorization": "Bearer sk-rich-1"}
            self.assertEqual(gate.chat("hello", model="auto", headers=rich,
                                       extra={"temperature": 0}).status, 200)
            self.assertEqual(gate.chat("write code", model="auto",
                                       headers=dict(rich, **{"x-llmgate-task": "code"})).status, 200)
            poor = gate.chat("hello", headers={"authorization": "Bearer sk-poor-1"})
            self.assertOpenAIError(poor, 429, "budget_exceeded", param=None)
            self.assertTrue(poor.header("retry-after"))
            gate.chat('boom FAKELLM{"status":503}', model="flaky", headers=rich)
            text = gate.admin("GET", "/metrics").text()
            self.assertEqual(value(text, "llmgate_route_decisions_total", route="auto",
                                   rule="default"), 1)
            self.assertEqual(value(text, "llmgate_route_decisions_total", route="auto",
                                   rule="1"), 1)
            self.assertEqual(value(text, "llmgate_budget_refusals_total", tenant="poor"), 1)
            self.assertIsNotNone(value(text, "llmgate_budget_limit_usd", tenant="poor"))
            self.assertIsNone(value(text, "llmgate_budget_spent_usd", tenant="rich"),
                              "a tenant without a budget got a series")
            self.assertEqual(value(text, "llmgate_cache_entries", tier="l1"), 1)
            self.assertGreater(value(text, "llmgate_cache_bytes", tier="l1"), 0)
            self.assertGreaterEqual(value(text, "llmgate_upstream_connections"), 1)
            self.assertEqual(value(text, "llmgate_upstream_ejected", model="flaky"), 1)
            self.assertEqual(value(text, "llmgate_upstream_ejected", model="gpt-4o-mini"), 0)
            self.assertEqual(value(text, "llmgate_cache_evictions_total", tier="l1"), 0)


if __name__ == "__main__":
    unittest.main()
