// RELIABILITY.md case 76: a base_url whose host is a non-public address, in
// any spelling, is refused unless the provider sets allow_private_network.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "common/config/loader.h"
#include "tests/unit/common/config/test_env.h"

namespace llmgate::config {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string configWith(const std::string& base_url, bool allow_private_network) {
  return "providers:\n  - name: p\n    base_url: \"" + base_url +
         "\"\n    allow_private_network: " + (allow_private_network ? "true" : "false") +
         "\nmodels: [{name: m, provider: p}]\n";
}

absl::StatusOr<Config> loadUrl(const std::string& base_url, bool allow_private_network) {
  return loadConfigString(configWith(base_url, allow_private_network), "ssrf.yaml",
                          test::fakeEnv({}));
}

struct SsrfCase {
  const char* host;      // as written in the URL
  const char* resolved;  // the address it means ("" for names)
};

void PrintTo(const SsrfCase& c, std::ostream* os) { *os << c.host; }

class NonPublicHostTest : public ::testing::TestWithParam<SsrfCase> {};

TEST_P(NonPublicHostTest, RefusedWithoutTheFlag) {
  const std::string url = std::string("http://") + GetParam().host + ":8000/v1";
  absl::StatusOr<Config> config = loadUrl(url, false);
  ASSERT_FALSE(config.ok()) << url;
  const std::vector<std::string> found = test::lines(config.status());
  ASSERT_THAT(found, ElementsAre(StartsWith("providers[0].base_url: host ")));
  EXPECT_THAT(found[0], HasSubstr("non-public address"));
  EXPECT_THAT(found[0], HasSubstr("allow_private_network: true"));
  const std::string resolved = GetParam().resolved;
  if (resolved.empty()) return;
  std::string host = GetParam().host;
  if (host.front() == '[') host = host.substr(1, host.size() - 2);
  // A disguised spelling is shown with the address it means.
  EXPECT_THAT(found[0], HasSubstr(host == resolved ? "host \"" + host + "\" is"
                                                   : "host \"" + host + "\" (" + resolved + ")"));
}

TEST_P(NonPublicHostTest, AllowedWithTheFlag) {
  const std::string url = std::string("http://") + GetParam().host + ":8000/v1";
  absl::StatusOr<Config> config = loadUrl(url, true);
  ASSERT_TRUE(config.ok()) << url << ": " << config.status();
  EXPECT_EQ(config->providers[0].endpoint.port, 8000);
  EXPECT_EQ(config->providers[0].endpoint.base_path, "/v1");
  EXPECT_FALSE(config->providers[0].endpoint.tls);
}

INSTANTIATE_TEST_SUITE_P(
    AllSpellings, NonPublicHostTest,
    ::testing::Values(
        // Loopback.
        SsrfCase{"127.0.0.1", "127.0.0.1"}, SsrfCase{"127.1", "127.0.0.1"},
        SsrfCase{"2130706433", "127.0.0.1"}, SsrfCase{"0177.0.0.1", "127.0.0.1"},
        SsrfCase{"017700000001", "127.0.0.1"}, SsrfCase{"0x7f000001", "127.0.0.1"},
        SsrfCase{"0x7f.0.0.1", "127.0.0.1"}, SsrfCase{"0X7F.1", "127.0.0.1"},
        SsrfCase{"127.255.255.254", "127.255.255.254"}, SsrfCase{"[::1]", "::1"},
        SsrfCase{"[0:0:0:0:0:0:0:1]", "::1"}, SsrfCase{"[::ffff:127.0.0.1]", "::ffff:127.0.0.1"},
        SsrfCase{"[::ffff:7f00:1]", "::ffff:127.0.0.1"},
        // Names of the local host.
        SsrfCase{"localhost", ""}, SsrfCase{"LocalHost", ""}, SsrfCase{"localhost.", ""},
        SsrfCase{"api.localhost", ""}, SsrfCase{"ip6-localhost", ""},
        // Link-local, cloud metadata.
        SsrfCase{"169.254.169.254", "169.254.169.254"}, SsrfCase{"2852039166", "169.254.169.254"},
        SsrfCase{"0xa9fea9fe", "169.254.169.254"},
        SsrfCase{"0251.0376.0251.0376", "169.254.169.254"}, SsrfCase{"[fe80::1]", "fe80::1"},
        SsrfCase{"[::ffff:169.254.169.254]", ""},
        SsrfCase{"[64:ff9b::a9fe:a9fe]", ""},  // NAT64 of 169.254.169.254
        // Private.
        SsrfCase{"10.0.0.1", "10.0.0.1"}, SsrfCase{"10.1", "10.0.0.1"},
        SsrfCase{"172.16.0.1", "172.16.0.1"}, SsrfCase{"172.31.255.255", "172.31.255.255"},
        SsrfCase{"192.168.1.1", "192.168.1.1"}, SsrfCase{"3232235777", "192.168.1.1"},
        SsrfCase{"[fd00::1]", "fd00::1"}, SsrfCase{"[fc00::1]", "fc00::1"},
        SsrfCase{"[::ffff:10.0.0.1]", ""}, SsrfCase{"[2002:a00:1::]", ""},  // 6to4 of 10.0.0.1
        // Unspecified, CGNAT.
        SsrfCase{"0.0.0.0", "0.0.0.0"}, SsrfCase{"0", "0.0.0.0"}, SsrfCase{"[::]", "::"},
        SsrfCase{"100.64.0.1", "100.64.0.1"}, SsrfCase{"100.127.255.254", "100.127.255.254"}));

TEST(PublicHostTest, AcceptedWithoutTheFlag) {
  for (const char* host :
       {"api.openai.com", "8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "169.255.0.1",
        "[2606:4700:4700::1111]", "[::ffff:8.8.8.8]", "134744072" /* 8.8.8.8 */,
        "api.deepseek.com.", "localhost.example.com"}) {
    absl::StatusOr<Config> config = loadUrl(std::string("https://") + host + "/v1", false);
    EXPECT_TRUE(config.ok()) << host << ": " << config.status();
  }
}

TEST(PublicHostTest, EndpointKeepsTheHostAsWritten) {
  absl::StatusOr<Config> config = loadUrl("https://[2606:4700:4700::1111]/v1/", false);
  ASSERT_TRUE(config.ok()) << config.status();
  EXPECT_EQ(config->providers[0].endpoint.host, "2606:4700:4700::1111");
  EXPECT_EQ(config->providers[0].endpoint.port, 443);
  EXPECT_EQ(config->providers[0].endpoint.base_path, "/v1");
}

TEST(MalformedHostTest, NumericHostsThatAreNotAddressesAreRefused) {
  for (const char* host : {"256.0.0.1", "4294967296", "0x1.0x100.0.0", "08.0.0.1", "example.123"}) {
    absl::StatusOr<Config> config = loadUrl(std::string("http://") + host + "/v1", true);
    ASSERT_FALSE(config.ok()) << host;
    EXPECT_THAT(std::string(config.status().message()),
                HasSubstr("looks like an IP address but is not a valid one"))
        << host;
  }
}

TEST(MalformedHostTest, DottedHostsWithExtraPartsAreRefused) {
  for (const char* host : {"1.2.3.4.5", "127.0.0.1.", "127.0.0.1.:8000", "10.0.0.1.evil.com"}) {
    absl::StatusOr<Config> config = loadUrl(std::string("http://") + host + "/v1", true);
    ASSERT_FALSE(config.ok()) << host;
    EXPECT_THAT(test::lines(config.status()),
                ElementsAre(StartsWith("providers[0].base_url: invalid host or port in \"http://")))
        << host;
  }
}

TEST(MalformedHostTest, PercentEncodedHostsAreRefused) {
  absl::StatusOr<Config> config = loadUrl("http://%31%32%37.0.0.1/v1", true);
  ASSERT_FALSE(config.ok());
  EXPECT_THAT(test::lines(config.status()),
              ElementsAre("providers[0].base_url: percent-encoding is not allowed in the host"));
}

}  // namespace
}  // namespace llmgate::config
