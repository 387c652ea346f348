"""llmgate starts itself once more with glibc's per-thread malloc cache
deepened (common/process/malloc_tuning.h): GLIBC_TUNABLES in the running
server's environment, an operator's own setting kept, an opt-out, and the
server serving as usual after the second start.
"""

import os
import unittest

from harness import FakeLLM, Llmgate, binary

TCACHE = "glibc.malloc.tcache_count=256"


def sanitized():
    with open(binary("llmgate"), "rb") as f:
        image = f.read()
    return b"__asan_init" in image or b"__tsan_init" in image


def environ_of(pid):
    with open("/proc/%d/environ" % pid, "rb") as f:
        raw = f.read()
    # The dynamic loader splits GLIBC_TUNABLES at its ':' in place while it
    # reads it: join the pieces again.
    raw = raw.replace(b"\0glibc.", b":glibc.")
    pairs = [kv.split(b"=", 1) for kv in raw.split(b"\0") if b"=" in kv]
    return {k.decode(): v.decode() for k, v in pairs}


@unittest.skipIf(sanitized(), "a sanitizer owns malloc: llmgate leaves glibc's tunables alone")
class MallocTuningTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fake = FakeLLM().start()

    @classmethod
    def tearDownClass(cls):
        cls.fake.stop()

    def gate_env(self, **env):
        # The test runner's own settings must not leak in.
        for name in ("GLIBC_TUNABLES", "LLMGATE_MALLOC_DEFAULTS"):
            os.environ.pop(name, None)
        gate = Llmgate(fake=self.fake, env=env).start()
        self.addCleanup(gate.stop)
        return gate, environ_of(gate.proc.pid)

    def test_server_runs_with_a_deeper_tcache_and_serves(self):
        gate, env = self.gate_env()
        self.assertEqual(env.get("GLIBC_TUNABLES"), TCACHE)
        resp = gate.request("POST", "/v1/chat/completions", json_body={
            "model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]})
        self.assertEqual(resp.status, 200, resp.body)

    def test_the_second_start_keeps_the_process_name(self):
        # Executing /proc/self/exe would name the process "exe" in ps, top and
        # pgrep; llmgate executes its own path.
        gate, _ = self.gate_env()
        with open("/proc/%d/comm" % gate.proc.pid) as f:
            self.assertEqual(f.read().strip(), os.path.basename(binary("llmgate"))[:15])

    def test_other_tunables_of_the_operator_are_kept(self):
        _, env = self.gate_env(GLIBC_TUNABLES="glibc.malloc.arena_max=2")
        self.assertEqual(env.get("GLIBC_TUNABLES"), "glibc.malloc.arena_max=2:" + TCACHE)

    def test_an_operator_tcache_setting_wins(self):
        _, env = self.gate_env(GLIBC_TUNABLES="glibc.malloc.tcache_count=16")
        self.assertEqual(env.get("GLIBC_TUNABLES"), "glibc.malloc.tcache_count=16")

    def test_opt_out_keeps_glibc_defaults(self):
        _, env = self.gate_env(LLMGATE_MALLOC_DEFAULTS="1")
        self.assertNotIn("GLIBC_TUNABLES", env)


if __name__ == "__main__":
    unittest.main()
