"""llmgate's command line: --check-config, --help, --version, and refusing to
start on a bad config (DESIGN.md "Configuration": every error names its key path).
"""

import os
import re
import subprocess
import tempfile
import unittest

from harness import DEFAULT_CONFIG, binary, canary

ENV = dict(os.environ, FAKE_KEY=canary("provider"))


def render(template):
    return (template.replace("@PORT@", "18080").replace("@APORT@", "19901")
            .replace("@FPORT@", "18999"))


GOOD = render(DEFAULT_CONFIG)

# Three independent problems in three sections.
THREE_ERRORS = render("""\
server: {listen: "127.0.0.1:@PORT@", admin_listen: "127.0.0.1:@APORT@", workers: 2,
         max_request_bytes: lots}
providers:
  - {name: fake, kind: openai, base_url: "http://127.0.0.1:@FPORT@/v1", api_key_env: FAKE_KEY,
     allow_private_network: true}
models:
  - {name: gpt-4o-mini, provider: fake, upstream_model: gpt-4o-mini, context_window: 128000,
     price_per_mtok: {input: cheap, output: 0.6}}
routes:
  - {name: auto, default: [ghost-model]}
""")
THREE_PATHS = ("server.max_request_bytes", "models[0].price_per_mtok.input", "routes[0].default[0]")

UNKNOWN_PROVIDER = GOOD.replace("provider: fake,", 'provider: x,')

PRIVATE_NO_OPT_IN = GOOD.replace("allow_private_network: true", "allow_private_network: false")

YAML_SYNTAX = 'server: {listen: "127.0.0.1:18080"\nproviders: [\n  - {name: fake\n' 


class ConfigCliTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory(prefix="llmgate-cli-")
        self.addCleanup(self.dir.cleanup)

    def write(self, text, name="config.yaml"):
        path = os.path.join(self.dir.name, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def run_llmgate(self, *args, timeout=15):
        try:
            p = subprocess.run([binary("llmgate")] + list(args), env=ENV, capture_output=True,
                               timeout=timeout, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            self.fail("llmgate %s did not exit within %ds" % (" ".join(args), timeout))
        out = p.stdout.decode("utf-8", "replace")
        err = p.stderr.decode("utf-8", "replace")
        self.assertGreaterEqual(p.returncode, 0, "llmgate %s died of signal %d; stderr:\n%s"
                                % (" ".join(args), -p.returncode, err))
        return p.returncode, out, err

    def problem_lines(self, out, err):
        return [l for l in (out + "\n" + err).splitlines() if l.strip()]

    def assertRefused(self, code, out, err, what):
        self.assertIn(code, (1, 2), "%s: exit code %d, expected 1 or 2; output:\n%s%s"
                      % (what, code, out, err))

    # --- --check-config --------------------------------------------------

    def test_check_config_good_file_exits_0(self):
        code, out, err = self.run_llmgate("--check-config", self.write(GOOD))
        self.assertEqual(code, 0, "good config refused:\n%s%s" % (out, err))

    def test_check_config_reports_each_problem_with_its_key_path(self):
        code, out, err = self.run_llmgate("--check-config", self.write(THREE_ERRORS))
        self.assertRefused(code, out, err, "three errors")
        lines = self.problem_lines(out, err)
        self.assertEqual(len(lines), 3, "expected one line per problem, got:\n" + "\n".join(lines))
        for path in THREE_PATHS:
            matching = [l for l in lines if l.startswith(path + ":")]
            self.assertEqual(len(matching), 1, "no line starting with %r in:\n%s"
                             % (path + ":", "\n".join(lines)))
        joined = "\n".join(lines)
        self.assertIn('"lots"', joined)
        self.assertIn('"cheap"', joined)
        self.assertIn('"ghost-model"', joined)

    def test_check_config_unknown_provider(self):
        code, out, err = self.run_llmgate("--check-config", self.write(UNKNOWN_PROVIDER))
        self.assertRefused(code, out, err, "unknown provider")
        lines = self.problem_lines(out, err)
        self.assertTrue(any(re.match(r'models\[0\]\.provider: .*"x"', l) for l in lines),
                        "no `models[0].provider: ... \"x\"` line in:\n" + "\n".join(lines))

    def test_check_config_private_base_url_needs_opt_in(self):
        code, out, err = self.run_llmgate("--check-config", self.write(PRIVATE_NO_OPT_IN))
        self.assertRefused(code, out, err, "loopback base_url without allow_private_network")
        lines = self.problem_lines(out, err)
        self.assertTrue(any(l.startswith("providers[0]") for l in lines),
                        "no line starting with providers[0] in:\n" + "\n".join(lines))

    def test_check_config_yaml_syntax_error(self):
        code, out, err = self.run_llmgate("--check-config", self.write(YAML_SYNTAX))
        self.assertRefused(code, out, err, "YAML syntax error")
        self.assertTrue(self.problem_lines(out, err), "no message for a YAML syntax error")

    def test_check_config_missing_file(self):
        path = os.path.join(self.dir.name, "does-not-exist.yaml")
        code, out, err = self.run_llmgate("--check-config", path)
        self.assertRefused(code, out, err, "missing file")
        self.assertIn("does-not-exist.yaml", out + err)

    def test_secrets_not_printed_by_check_config(self):
        code, out, err = self.run_llmgate("--check-config", self.write(THREE_ERRORS))
        self.assertNotIn(ENV["FAKE_KEY"], out + err)

    # --- --help / --version / bad flags ----------------------------------

    def test_help_exits_0(self):
        code, out, err = self.run_llmgate("--help")
        self.assertEqual(code, 0, out + err)
        self.assertIn("--config", out + err)
        self.assertIn("--check-config", out + err)

    def test_version_exits_0(self):
        code, out, err = self.run_llmgate("--version")
        self.assertEqual(code, 0, out + err)
        self.assertRegex(out + err, r"\d+\.\d+\.\d+")

    def test_unknown_flag_is_refused(self):
        code, out, err = self.run_llmgate("--no-such-flag")
        self.assertRefused(code, out, err, "unknown flag")

    # --- starting with a bad config --------------------------------------

    def test_start_with_bad_config_exits_nonzero(self):
        code, out, err = self.run_llmgate("--config", self.write(THREE_ERRORS))
        self.assertRefused(code, out, err, "--config with a bad file")
        for path in THREE_PATHS:
            self.assertIn(path, out + err)

    def test_start_with_missing_config_exits_nonzero(self):
        code, out, err = self.run_llmgate("--config", os.path.join(self.dir.name, "nope.yaml"))
        self.assertRefused(code, out, err, "--config with a missing file")
        self.assertIn("nope.yaml", out + err)


if __name__ == "__main__":
    unittest.main()
