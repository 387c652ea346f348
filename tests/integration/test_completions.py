"""Chat completions, streaming, models and embeddings through llmgate to fakellm.

RELIABILITY.md cases 13 (cut stream), 15 (keep-alive comments are not a first
byte), 49 (unknown model); DESIGN.md "Streaming" and "HTTP surface".
"""

import json
import secrets
import unittest

from harness import GatewayTestCase, stream_request

# One attempt per request, so that timings below are the timeouts themselves.
CONFIG = """\
server: {listen: "127.0.0.1:@PORT@", admin_listen: "127.0.0.1:@APORT@", workers: 2,
         max_request_bytes: 64KiB, request_header_timeout: 2s, idle_timeout: 3s, drain_timeout: 1s}
retry: {max_attempts: 1}
failover: {eject_after: 1000}  # one test's failures never eject the target for the next
providers:
  - {name: fake, kind: openai, base_url: "http://127.0.0.1:@FPORT@/v1", api_key_env: FAKE_KEY,
     allow_private_network: true,
     timeouts: {connect: 1s, first_byte: 2s, stream_idle: 2s, total: 10s}}
models:
  - {name: gpt-4o-mini, provider: fake, upstream_model: gpt-4o-mini, context_window: 128000,
     price_per_mtok: {input: 0.15, output: 0.6}}
  - {name: house-model, provider: fake, upstream_model: gpt-4o-mini, context_window: 128000,
     price_per_mtok: {input: 0.15, output: 0.6}}
  - {name: text-embedding-3-small, provider: fake, upstream_model: text-embedding-3-small,
     context_window: 8191, price_per_mtok: {input: 0.02, output: 0}}
routes:
  - {name: auto, default: [gpt-4o-mini]}
"""

FIRST_BYTE_S = 2.0
CLIENT_KEY = "sk-client-" + secrets.token_hex(12)  # no clients: configured, so any key passes


def script(**behaviour):
    return "FAKELLM" + json.dumps(behaviour, separators=(",", ":"))


class CompletionsTest(GatewayTestCase):
    @classmethod
    def setUpClass(cls):
        cls.start_stack(CONFIG)


    # --- non-streaming ---------------------------------------------------

    def test_nonstream_completion_shape_and_headers(self):
        mark = self.marker()
        rid = "it-rid-" + secrets.token_hex(8)
        resp = self.gate.chat("Say hello. " + mark, headers={
            "Authorization": "Bearer " + CLIENT_KEY,
            "x-request-id": rid,
            "x-llmgate-provider": "evil-client-value",
        })
        self.assertEqual(resp.status, 200, resp)
        self.assertIn("application/json", resp.header("content-type", ""))
        body = resp.json()
        self.assertEqual(body.get("object"), "chat.completion", body)
        self.assertIsInstance(body.get("id"), str)
        self.assertIsInstance(body.get("created"), int)
        self.assertIsInstance(body.get("model"), str)
        self.assertIsInstance(body.get("choices"), list)
        self.assertGreaterEqual(len(body["choices"]), 1)
        choice = body["choices"][0]
        self.assertEqual(choice.get("index"), 0)
        self.assertEqual(choice["message"]["role"], "assistant")
        self.assertIsInstance(choice["message"]["content"], str)
        self.assertTrue(choice["message"]["content"])
        self.assertIn(choice.get("finish_reason"), ("stop", "length"))
        usage = body.get("usage")
        self.assertIsInstance(usage, dict, body)
        for k in ("prompt_tokens", "completion_tokens", "total_tokens"):
            self.assertIsInstance(usage.get(k), int, usage)
        # Headers: client request id kept; provider/model of what served; client's
        # x-llmgate-provider ignored.
        self.assertEqual(resp.header("x-request-id"), rid)
        self.assertEqual(resp.header("x-llmgate-provider"), "fake")
        self.assertEqual(resp.header("x-llmgate-model"), "gpt-4o-mini")
        # What went upstream: our provider key, never the client's.
        sent = self.fake.find_request(mark)
        self.assertIsNotNone(sent, "fakellm did not record the request carrying %s" % mark)
        self.assertEqual(sent["path"], "/v1/chat/completions")
        headers = {k.lower(): v for k, v in sent["headers"].items()}
        self.assertEqual(headers.get("authorization"), "Bearer " + self.gate.provider_key)
        self.assertNotIn(CLIENT_KEY, json.dumps(sent), "client key went upstream")
        self.assertNotIn("evil-client-value", json.dumps(headers))
        self.assertNotIn(self.gate.provider_key, resp.text())

    def test_request_id_generated_when_absent(self):
        a = self.gate.chat("first " + self.marker())
        b = self.gate.chat("second " + self.marker())
        self.assertEqual((a.status, b.status), (200, 200), (a, b))
        self.assertTrue(a.header("x-request-id"))
        self.assertTrue(b.header("x-request-id"))
        self.assertNotEqual(a.header("x-request-id"), b.header("x-request-id"))

    def test_upstream_model_is_configured_upstream_model(self):
        mark = self.marker()
        resp = self.gate.chat("Name a colour. " + mark, model="house-model")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("x-llmgate-model"), "house-model")
        sent = self.fake.find_request(mark)
        self.assertIsNotNone(sent, "fakellm did not record the request carrying %s" % mark)
        body = sent["body"] if isinstance(sent["body"], dict) else json.loads(sent["body"])
        self.assertEqual(body.get("model"), "gpt-4o-mini", body)

    def test_route_alias_auto(self):
        resp = self.gate.chat("Hi via alias " + self.marker(), model="auto")
        self.assertEqual(resp.status, 200, resp)
        self.assertEqual(resp.header("x-llmgate-model"), "gpt-4o-mini")
        route = resp.header("x-llmgate-route")
        self.assertIsNotNone(route, "no x-llmgate-route header: %r" % resp)
        self.assertTrue(route.startswith("auto"), route)

    def test_nonstream_leading_blank_lines_are_absorbed(self):
        # R15 non-streaming variant: blank lines for ~1 s, then valid JSON.
        resp = self.gate.chat("Blank lines first. " + self.marker() + " " +
                              script(keepalives=4, keepalive_interval_ms=250))
        self.assertEqual(resp.status, 200, resp)
        body = resp.json()
        self.assertEqual(body.get("object"), "chat.completion", body)
        self.assertTrue(body["choices"][0]["message"]["content"])

    def test_unknown_model_is_404(self):
        before = self.fake.request_count()
        resp = self.gate.chat("hello", model="no-such-model-" + secrets.token_hex(3),
                              headers={"x-request-id": "it-unknown-model"})
        err = self.assertOpenAIError(resp, 404, "model_not_found", param="model",
                                     request_id="it-unknown-model")
        self.assertIn("/v1/models", err["message"], "R49: the message says where to see models")
        self.assertEqual(resp.header("x-llmgate-attempts"), "0")
        self.assertEqual(self.fake.request_count(), before, "an unknown model reached upstream")

    # --- streaming -------------------------------------------------------

    def stream(self, content, model="gpt-4o-mini", headers=None, wait_close=0.0):
        body = {"model": model, "stream": True,
                "messages": [{"role": "user", "content": content}]}
        return stream_request(self.gate.port, "/v1/chat/completions", body, headers=headers,
                              timeout=20, wait_close=wait_close)

    def assertCompleteStream(self, st):
        self.assertEqual(st.status, 200, st.body[:500])
        self.assertIn("text/event-stream", st.headers.get("content-type", ""))
        self.assertFalse(st.http_truncated, "connection closed before the end of the response")
        data = st.data_events
        self.assertGreaterEqual(len(data), 2, st.events)
        self.assertEqual(data[-1].data, "[DONE]", "stream does not end with [DONE]: %r" % data[-3:])
        self.assertEqual(st.events[-1].data, "[DONE]", "something after [DONE]: %r" % st.events[-3:])
        self.assertEqual(sum(1 for e in data if e.data == "[DONE]"), 1)
        text = ""
        for e in data[:-1]:
            chunk = e.json()
            self.assertNotIn("error", chunk, chunk)
            self.assertEqual(chunk.get("object"), "chat.completion.chunk", chunk)
            for c in chunk.get("choices", []):
                text += (c.get("delta") or {}).get("content") or ""
        self.assertTrue(text, "no content in the streamed deltas")
        return text

    def test_stream_is_relayed_incrementally(self):
        rid = "it-stream-" + secrets.token_hex(4)
        st = self.stream("Count slowly. " + self.marker() + " " +
                         script(ttft_ms=100, tokens_per_sec=20), headers={"x-request-id": rid})
        self.assertCompleteStream(st)
        self.assertEqual(st.headers.get("x-request-id"), rid)
        self.assertEqual(st.headers.get("x-llmgate-provider"), "fake")
        self.assertEqual(st.headers.get("x-llmgate-model"), "gpt-4o-mini")
        chunks = [e for e in st.data_events if e.data != "[DONE]"]
        self.assertGreaterEqual(len(chunks), 4, "too few chunks to judge pacing: %r" % chunks)
        # At 20 tokens/s fakellm spaces chunks ~50 ms apart. Relayed as they arrive, the
        # first chunk reaches us well before the last; a buffered relay delivers all at once.
        span = chunks[-1].t - chunks[0].t
        expected = (len(chunks) - 1) / 20.0
        self.assertGreater(span, 0.5 * expected,
                           "chunks arrived within %.3fs, fakellm paced them over ~%.3fs: buffered?"
                           % (span, expected))
        times = [e.t for e in chunks]
        self.assertEqual(times, sorted(times))
        distinct = len({round(t, 2) for t in times})
        self.assertGreater(distinct, len(times) // 2, "chunks arrived in bursts: %r" % times)

    def test_keepalive_comments_absorbed_then_data(self):
        # Keep-alive comments for ~1 s (under first_byte 2 s), then a normal stream.
        st = self.stream("Warm up. " + self.marker() + " " +
                         script(keepalives=4, keepalive_interval_ms=250))
        self.assertCompleteStream(st)
        self.assertFalse(st.events[0].is_comment,
                         "keep-alive comments before the first data event must be absorbed, "
                         "got %r" % st.events[:3])
        # Headers are held until the first data event, which comes after the comments.
        self.assertGreater(st.t_headers, 0.6, "headers sent before the first data event")

    def test_keepalive_forever_is_first_byte_timeout(self):
        rid = "it-ka-forever-" + secrets.token_hex(4)
        st = self.stream("Never answer. " + self.marker() + " " +
                         script(keepalive_forever=True, keepalive_interval_ms=300),
                         headers={"x-request-id": rid})
        self.assertEqual(st.status, 504, "expected 504 upstream_first_byte_timeout, got %d %r"
                         % (st.status, st.body[:500]))
        self.assertIn("application/json", st.headers.get("content-type", ""))
        err = st.json()["error"]
        self.assertEqual(err["code"], "upstream_first_byte_timeout", err)
        self.assertEqual(st.headers.get("x-request-id"), rid)
        self.assertEqual(st.headers.get("x-llmgate-attempts"), "1")
        # Comments every 300 ms must not re-arm the 2 s first-byte deadline, and the
        # deadline is not cut short either.
        self.assertGreaterEqual(st.t_headers, 0.8 * FIRST_BYTE_S, "timed out too early")
        self.assertLess(st.t_headers, FIRST_BYTE_S + 2.0, "comments re-armed the deadline?")

    def test_cut_stream_ends_with_stream_incomplete(self):
        st = self.stream("Get cut. " + self.marker() + " " + script(cut_after=3), wait_close=3.0)
        self.assertEqual(st.status, 200, st.body[:500])
        self.assertIn("text/event-stream", st.headers.get("content-type", ""))
        data = st.data_events
        self.assertGreaterEqual(len(data), 2, st.events)
        self.assertNotIn("[DONE]", [e.data for e in data], "a cut stream must not end with [DONE]")
        errors = [e for e in data if '"error"' in e.data]
        self.assertEqual(len(errors), 1, "expected exactly one error event: %r" % data)
        self.assertIs(data[-1], errors[0], "the error event must be the last event")
        err = errors[0].json()["error"]
        self.assertEqual(err["code"], "stream_incomplete", err)
        self.assertEqual(err.get("type"), "upstream_error", err)
        self.assertIn("param", err)
        self.assertTrue(err.get("message"))
        for e in data[:-1]:
            self.assertEqual(e.json().get("object"), "chat.completion.chunk", e)
        self.assertIsNotNone(st.closed_after, "connection stayed open after the terminal event")

    # --- models and embeddings ------------------------------------------

    def test_models_lists_models_and_aliases(self):
        resp = self.gate.request("GET", "/v1/models")
        self.assertEqual(resp.status, 200, resp)
        body = resp.json()
        self.assertEqual(body.get("object"), "list", body)
        ids = [m.get("id") for m in body.get("data", [])]
        for expected in ("gpt-4o-mini", "house-model", "auto"):
            self.assertIn(expected, ids, body)
        for m in body["data"]:
            self.assertEqual(m.get("object"), "model", m)

    def test_embeddings_pass_through(self):
        mark = self.marker()
        resp = self.gate.request("POST", "/v1/embeddings", json_body={
            "model": "text-embedding-3-small", "input": "embed me " + mark})
        self.assertEqual(resp.status, 200, resp)
        body = resp.json()
        self.assertEqual(body.get("object"), "list", body)
        self.assertGreaterEqual(len(body.get("data", [])), 1, body)
        vec = body["data"][0].get("embedding")
        self.assertIsInstance(vec, list)
        self.assertTrue(vec)
        self.assertTrue(all(isinstance(x, (int, float)) for x in vec))
        self.assertEqual(resp.header("x-llmgate-provider"), "fake")
        sent = self.fake.find_request(mark)
        self.assertIsNotNone(sent, "fakellm did not record the embeddings request")
        self.assertEqual(sent["path"], "/v1/embeddings")
        headers = {k.lower(): v for k, v in sent["headers"].items()}
        self.assertEqual(headers.get("authorization"), "Bearer " + self.gate.provider_key)


if __name__ == "__main__":
    unittest.main()
