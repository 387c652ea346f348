"""Upstream TLS policy (RELIABILITY R4, R81): a provider whose certificate does
not verify against the system store is refused with 502 upstream_tls_error;
there is no plaintext fallback. The TLS server is `openssl s_server` with a
throw-away self-signed certificate."""
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import GatewayTestCase, Llmgate, free_port, wait_until, _can_connect

CONFIG = """\
server: {listen: "127.0.0.1:@PORT@", admin_listen: "127.0.0.1:@APORT@", workers: 1}
retry: {max_attempts: 1}
providers:
  - {name: selfsigned, kind: openai, base_url: "https://127.0.0.1:@TLSPORT@/v1",
     allow_private_network: true, timeouts: {connect: 2s, first_byte: 2s, total: 5s}}
models:
  - {name: m, provider: selfsigned, upstream_model: gpt-4o-mini, context_window: 128000}
"""


@unittest.skipUnless(shutil.which("openssl"), "openssl is not installed")
class UpstreamTlsTest(GatewayTestCase):
    def test_self_signed_upstream_is_refused(self):
        tmp = tempfile.mkdtemp(prefix="llmgate-tls-")
        key, cert = os.path.join(tmp, "key.pem"), os.path.join(tmp, "cert.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-keyout", key, "-out", cert],
                       check=True, capture_output=True)
        port = free_port()
        server = subprocess.Popen(["openssl", "s_server", "-accept", "127.0.0.1:%d" % port,
                                   "-cert", cert, "-key", key, "-www", "-quiet"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_until(lambda: _can_connect(port), 10, "openssl s_server on port %d" % port)
            with Llmgate(CONFIG.replace("@TLSPORT@", str(port))) as gate:
                resp = gate.chat("hello over tls", model="m")
                err = self.assertOpenAIError(resp, 502, "upstream_tls_error", param=None)
                self.assertIn("selfsigned", err["message"])
                gate.assert_healthy()
        finally:
            server.terminate()
            server.wait(5)
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main()
