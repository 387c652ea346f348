"""OpenAI-style requests reach providers with strict schemas intact (issue 5;
../shared/PROVIDERS.md §1, §5): fakellm validates like Mistral (field
whitelist, 9-character tool-call ids) and DeepSeek (no `developer` role), so a
request llmgate did not rewrite would get a 4xx here."""
import unittest

from harness import FakeLLM, GatewayTestCase, Llmgate

CONFIG = """\
server: {listen: "127.0.0.1:@PORT@", admin_listen: "127.0.0.1:@APORT@", workers: 1}
retry: {max_attempts: 1}
failover: {eject_after: 1000}
cache: {mode: "off"}
providers:
  - {name: mistral, kind: mistral, base_url: "http://127.0.0.1:@FPORT@/mistral/v1",
     api_key_env: FAKE_KEY, allow_private_network: true}
  - {name: deepseek, kind: deepseek, base_url: "http://127.0.0.1:@FPORT@/deepseek",
     api_key_env: FAKE_KEY, allow_private_network: true}
models:
  - {name: mistral-small, provider: mistral, upstream_model: mistral-small-latest,
     context_window: 32000}
  - {name: deepseek-chat, provider: deepseek, context_window: 64000}
"""

# An OpenAI SDK conversation with a tool round trip, as a client replays it.
CONVERSATION = {
    "messages": [
        {"role": "developer", "content": "Answer briefly."},
        {"role": "user", "content": "What time is it?", "name": "alice"},
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": "call_Qx8hD2bYt9lK0mN4", "type": "function",
                         "function": {"name": "get_time", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_Qx8hD2bYt9lK0mN4", "content": "12:00"},
    ],
    "tools": [{"type": "function", "function": {"name": "get_time",
                                                "parameters": {"type": "object"}}}],
    "tool_choice": "required",
    "seed": 42,
    "max_completion_tokens": 50,
    "user": "end-user-1",
    "stream_options": {"include_usage": True},
}


class ProviderQuirksTest(GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = FakeLLM().start()
        cls.gate = Llmgate(CONFIG, fake=cls.fake).start()

    @classmethod
    def tearDownClass(cls):
        cls.gate.stop()
        cls.fake.stop()

    def send(self, model, stream=False):
        body = dict(CONVERSATION)
        if not stream:
            body.pop("stream_options")
        return self.gate.chat("unused", model=model, stream=stream, extra=body)

    def test_mistral_accepts_the_rewritten_request(self):
        for stream in (False, True):
            r = self.send("mistral-small", stream=stream)
            self.assertEqual(r.status, 200, r.text())
            self.assertEqual(r.header("x-llmgate-provider"), "mistral")

    def test_deepseek_accepts_the_developer_role(self):
        r = self.send("deepseek-chat")
        self.assertEqual(r.status, 200, r.text())
        self.assertEqual(r.header("x-llmgate-provider"), "deepseek")


if __name__ == "__main__":
    unittest.main()
