"""R65: graceful drain on SIGTERM with 50 streams in flight.

Each test starts its own fakellm and llmgate (the process ends in the test),
opens 50 slow streams (fakellm paces them with a FAKELLM directive), sends
SIGTERM and checks: /readyz is 503 at once, new connections are refused, idle
keep-alive connections are closed, every stream either completes ([DONE]) or
ends with exactly one terminal event `server_shutting_down` and a proper end
of the HTTP body (never cut silently), and the process exits 0 in time.
"""

import json
import os
import signal
import socket
import threading
import time
import unittest

import harness
from harness import HOST, FakeLLM, Llmgate, RawConn, build_request, stream_request, wait_until

STREAMS = 50

CONFIG = """\
server: {listen: "127.0.0.1:@PORT@", admin_listen: "127.0.0.1:@APORT@", workers: 2,
         max_request_bytes: 64KiB, request_header_timeout: 2s, idle_timeout: 10s,
         drain_timeout: @DRAIN@}
providers:
  - {name: fake, kind: openai, base_url: "http://127.0.0.1:@FPORT@/v1", api_key_env: FAKE_KEY,
     allow_private_network: true, max_connections: 256,
     timeouts: {connect: 1s, first_byte: 10s, stream_idle: 3s, total: 30s}}
models:
  - {name: gpt-4o-mini, provider: fake, upstream_model: gpt-4o-mini, context_window: 128000,
     price_per_mtok: {input: 0.15, output: 0.6}}
routes:
  - {name: auto, default: [gpt-4o-mini]}
cache: {mode: "off"}
"""


def chat_body(text, behaviour, stream=True):
    body = {"model": "gpt-4o-mini",
            "messages": [{"role": "user", "content": "%s FAKELLM%s" % (text, json.dumps(behaviour))}]}
    if stream:
        body["stream"] = True
    return body


class StreamClient(threading.Thread):
    """One streamed request; keeps the parsed Stream or the exception."""

    def __init__(self, port, index, behaviour):
        super().__init__(daemon=True)
        self.port, self.index, self.behaviour = port, index, behaviour
        self.result = self.error = None
        self.t_start = None

    def run(self):
        try:
            self.t_start = time.monotonic()
            self.result = stream_request(
                self.port, "/v1/chat/completions",
                chat_body("drain stream %d" % self.index, self.behaviour), timeout=20,
                wait_close=2.0)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            self.error = exc


class UnaryClient(threading.Thread):
    def __init__(self, port, body):
        super().__init__(daemon=True)
        self.port, self.body = port, body
        self.result = self.error = None

    def run(self):
        try:
            self.result = harness.request(self.port, "POST", "/v1/chat/completions",
                                          json_body=self.body, timeout=20)
        except Exception as exc:  # noqa: BLE001
            self.error = exc


def classify(test, client):
    """'done' or 'terminal' for a stream that ended one of the two allowed ways."""
    test.assertIsNone(client.error, "stream %d failed: %r" % (client.index, client.error))
    st = client.result
    test.assertEqual(st.status, 200, "stream %d: %r" % (client.index, st.body[:300]))
    test.assertFalse(st.http_truncated,
                     "stream %d was cut silently (no last HTTP chunk); events %r"
                     % (client.index, st.events[-3:]))
    data = [e.data for e in st.data_events]
    test.assertTrue(data, "stream %d has no data event" % client.index)
    content = [d for d in data[:-1]]
    for d in content:
        test.assertNotIn('"error"', d, "stream %d: error before its last event" % client.index)
    test.assertIsNotNone(st.closed_after, "stream %d: connection left open after the response "
                         "during the drain" % client.index)
    if data[-1] == "[DONE]":
        return "done"
    last = json.loads(data[-1])
    test.assertIn("error", last, "stream %d ended with neither [DONE] nor an error event: %r"
                  % (client.index, data[-3:]))
    test.assertEqual(last["error"]["code"], "server_shutting_down", last)
    test.assertEqual(last["error"]["type"], "server_error", last)
    test.assertTrue(last["error"]["message"], last)
    test.assertNotIn("[DONE]", data, "stream %d: [DONE] and an error event" % client.index)
    test.assertGreater(len(data), 1, "stream %d: the terminal event came before any content"
                       % client.index)
    return "terminal"


class DrainTest(unittest.TestCase):
    maxDiff = 4000

    def start(self, drain):
        fake = FakeLLM().start()
        self.addCleanup(fake.stop)
        gate = Llmgate(CONFIG.replace("@DRAIN@", drain), fake=fake)
        gate.start()
        self.addCleanup(lambda: gate.proc.poll() is None and gate.stop(check=False))
        return fake, gate

    def start_streams(self, fake, gate, behaviour):
        fake.reset()
        clients = [StreamClient(gate.port, i, behaviour) for i in range(STREAMS)]
        for c in clients:
            c.start()
        # In flight: every request reached the provider; then a few events each.
        wait_until(lambda: fake.request_count() >= STREAMS, 15,
                   "all %d streams to reach fakellm" % STREAMS)
        time.sleep(0.3)
        return clients

    def sigterm_and_check_refusal(self, gate):
        t0 = time.monotonic()
        os.kill(gate.proc.pid, signal.SIGTERM)
        # /readyz turns 503 at once (as soon as the signal is handled; polled
        # because delivery is asynchronous and this machine may be loaded).
        wait_until(lambda: harness.request(gate.admin_port, "GET", "/readyz", timeout=2).status
                   == 503, 1.0, "/readyz to answer 503 after SIGTERM", interval=0.01)
        readyz_after = time.monotonic() - t0
        self.assertLess(readyz_after, 0.5, "/readyz took %.2fs to turn 503" % readyz_after)
        self.assertEqual(harness.request(gate.admin_port, "GET", "/healthz", timeout=2).status,
                         200)

        # New connections are refused (the acceptors are closed).
        def refused():
            try:
                with socket.create_connection((HOST, gate.port), timeout=1) as s:
                    s.settimeout(1)
                    s.sendall(build_request("GET", "/v1/models"))
                    return s.recv(1) == b""  # closed unanswered also counts as refused
            except (ConnectionRefusedError, ConnectionResetError):
                return True

        wait_until(refused, 1.0, "new connections to be refused after SIGTERM")
        return t0

    def wait_exit(self, gate, t0, limit):
        try:
            code = gate.proc.wait(timeout=limit + 5)
        except Exception:  # noqa: BLE001
            harness._keep_temp_dir(gate.dir)
            raise
        took = time.monotonic() - t0
        logs = gate.logs()
        self.assertEqual(code, 0, "exit code %s; logs:\n%s" % (code, harness._tail(logs)))
        self.assertLess(took, limit, "exited %.2fs after SIGTERM, limit %.2fs" % (took, limit))
        self.assertEqual(gate.crash_markers(), [], harness._tail(logs))
        self.assertIn("draining:", logs)
        return took, logs

    def test_streams_within_drain_timeout_complete(self):
        fake, gate = self.start(drain="8s")
        # An idle keep-alive connection (one request served) and a unary request in flight.
        idle = RawConn(gate.port, timeout=5)
        self.addCleanup(idle.close)
        idle.send(build_request("GET", "/v1/models"))
        self.assertEqual(idle.read_response().status, 200)
        clients = self.start_streams(fake, gate, {"tokens_per_sec": 10, "answer_words": 20})
        unary = UnaryClient(gate.port, chat_body("drain unary", {"latency_ms": 1200}, stream=False))
        unary.start()
        wait_until(lambda: fake.request_count() >= STREAMS + 1, 5, "the unary request upstream")

        t0 = self.sigterm_and_check_refusal(gate)
        self.assertIsNotNone(idle.wait_closed(1.0),
                             "an idle keep-alive connection was not closed by the drain")
        unary.join(20)
        self.assertIsNone(unary.error, unary.error)
        self.assertEqual(unary.result.status, 200, unary.result)
        self.assertEqual(unary.result.header("connection", "").lower(), "close",
                         "a response finished during the drain must say Connection: close: %r"
                         % unary.result)
        for c in clients:
            c.join(20)
        outcomes = [classify(self, c) for c in clients]
        self.assertEqual(outcomes.count("done"), STREAMS,
                         "streams shorter than drain_timeout must all complete: %r" % outcomes)
        took, logs = self.wait_exit(gate, t0, limit=8.0)
        # It waited for the streams (~2 s each), not for the whole drain_timeout.
        self.assertLess(took, 6.0, logs)

    def test_streams_longer_than_drain_timeout_get_the_terminal_event(self):
        fake, gate = self.start(drain="1s")
        # 40 words at 10/s: ~4 s, longer than drain_timeout.
        clients = self.start_streams(fake, gate, {"tokens_per_sec": 10, "answer_words": 40})
        # Still waiting for its answer / its first byte at the deadline.
        unary = UnaryClient(gate.port, chat_body("drain unary", {"latency_ms": 6000}, stream=False))
        unary.start()
        first_byte = UnaryClient(gate.port, chat_body("drain ttft", {"ttft_ms": 6000}))
        first_byte.start()
        # In a 3 s retry backoff (Retry-After: 3) at the deadline: cut short too.
        backoff = UnaryClient(gate.port, chat_body("drain backoff",
                                                   {"status": 503, "retry_after": "3"}, stream=False))
        backoff.start()
        wait_until(lambda: fake.request_count() >= STREAMS + 3, 5, "the waiting requests upstream")

        t0 = self.sigterm_and_check_refusal(gate)
        for c in clients:
            c.join(20)
        outcomes = [classify(self, c) for c in clients]
        self.assertEqual(outcomes.count("terminal"), STREAMS, outcomes)
        for c in clients:
            # The streams ran on through the drain: the terminal event came at
            # the deadline (SIGTERM + 1 s), not at the SIGTERM.
            terminal_at = c.t_start + c.result.events[-1].t - t0
            self.assertGreater(terminal_at, 0.8, "stream %d ended %.2fs after SIGTERM"
                               % (c.index, terminal_at))
            self.assertLess(terminal_at, 3.0, "stream %d ended %.2fs after SIGTERM"
                            % (c.index, terminal_at))
        for waiting in (unary, first_byte, backoff):
            waiting.join(20)
            self.assertIsNone(waiting.error, waiting.error)
            resp = waiting.result
            self.assertEqual(resp.status, 503, resp)
            self.assertEqual(resp.json()["error"]["code"], "server_shutting_down", resp)
            self.assertEqual(resp.header("connection", "").lower(), "close", resp)
        took, logs = self.wait_exit(gate, t0, limit=1.0 + 1.0 + 1.5)
        self.assertGreaterEqual(took, 0.9, "exited before drain_timeout: %.2fs" % took)
        self.assertIn("drain_timeout passed", logs)
        # Nothing lost: one access-log line per request, written before the exit.
        cut = [line for line in logs.splitlines()
               if line.startswith("{") and '"error_code":"server_shutting_down"' in line]
        self.assertEqual(len(cut), STREAMS + 3, "access-log lines of the cut requests")

    def test_second_sigterm_exits_at_once(self):
        fake, gate = self.start(drain="20s")
        fake.reset()
        clients = [StreamClient(gate.port, i, {"tokens_per_sec": 5, "answer_words": 50})
                   for i in range(3)]
        for c in clients:
            c.start()
        wait_until(lambda: fake.request_count() >= 3, 10, "3 streams upstream")
        os.kill(gate.proc.pid, signal.SIGTERM)
        wait_until(lambda: harness.request(gate.admin_port, "GET", "/readyz").status == 503, 2,
                   "/readyz 503")
        t0 = time.monotonic()
        os.kill(gate.proc.pid, signal.SIGTERM)
        code = gate.proc.wait(timeout=5)
        self.assertLess(time.monotonic() - t0, 1.5)
        self.assertEqual(code, 1, "a second SIGTERM exits with status 1")
        self.assertIn("second SIGTERM/SIGINT", gate.logs())
        self.assertEqual(gate.crash_markers(), [], harness._tail(gate.logs()))
        # The streams cut by the hard exit are still in the access log.
        lines = [l for l in gate.logs().splitlines() if l.startswith("{") and "/v1/chat" in l]
        self.assertEqual(len(lines), 3, lines)
        for c in clients:
            c.join(10)


if __name__ == "__main__":
    unittest.main()
