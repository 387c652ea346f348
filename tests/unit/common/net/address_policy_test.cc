#include "common/net/address_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace llmgate::net {
namespace {

namespace ip = boost::asio::ip;

bool nonPublic(const char* address) { return isNonPublicAddress(ip::make_address(address)); }

std::string loose(const char* host) {
  const std::optional<ip::address> address = parseIpLiteralLoose(host);
  return address ? address->to_string() : "none";
}

TEST(ParseIpLiteralLooseTest, DottedDecimal) {
  EXPECT_EQ(loose("127.0.0.1"), "127.0.0.1");
  EXPECT_EQ(loose("8.8.8.8"), "8.8.8.8");
  EXPECT_EQ(loose("127.0.0.1."), "127.0.0.1");
}

TEST(ParseIpLiteralLooseTest, InetAtonSpellings) {
  EXPECT_EQ(loose("2130706433"), "127.0.0.1");
  EXPECT_EQ(loose("0177.0.0.1"), "127.0.0.1");
  EXPECT_EQ(loose("0x7f.0.0.1"), "127.0.0.1");
  EXPECT_EQ(loose("0x7F000001"), "127.0.0.1");
  EXPECT_EQ(loose("017700000001"), "127.0.0.1");
  EXPECT_EQ(loose("127.1"), "127.0.0.1");
  EXPECT_EQ(loose("127.0.1"), "127.0.0.1");
  EXPECT_EQ(loose("10.0x10.0400"), "10.16.1.0");  // a.b.c: c fills 16 bits
  EXPECT_EQ(loose("0"), "0.0.0.0");
  EXPECT_EQ(loose("0x"), "0.0.0.0");
  EXPECT_EQ(loose("4294967295"), "255.255.255.255");
}

TEST(ParseIpLiteralLooseTest, Ipv6) {
  EXPECT_EQ(loose("::1"), "::1");
  EXPECT_EQ(loose("[::1]"), "::1");
  EXPECT_EQ(loose("[::ffff:127.0.0.1]"), "::ffff:127.0.0.1");
  EXPECT_EQ(loose("fe80::1%eth0"), "fe80::1");
  EXPECT_EQ(loose("[fe80::1%25eth0]"), "fe80::1");
}

TEST(ParseIpLiteralLooseTest, NotLiterals) {
  for (const char* host :
       {"",          ".",          "example.com", "1.2.3.4.5",   "256.0.0.1", "1.256.0.0",
        "1.2.65536", "4294967296", "08",          "0x1g",        "1..2",      ".1.2.3",
        "1.2.3.4..", "[::1",       "::1]",        "[127.0.0.1]", ":::",       "1.2.3.-4",
        " 1.2.3.4",  "1.2.3.4 ",   "+1.2.3.4",    "0xffffffffff"}) {
    EXPECT_EQ(loose(host), "none") << '"' << host << '"';
  }
}

TEST(IsNonPublicAddressTest, Ipv4Ranges) {
  for (const char* address :
       {"0.0.0.0",        "0.1.2.3",         "10.0.0.0",        "10.255.255.255",
        "100.64.0.0",     "100.127.255.255", "127.0.0.1",       "127.255.255.255",
        "169.254.0.1",    "169.254.169.254", "172.16.0.0",      "172.31.255.255",
        "192.0.0.8",      "192.168.0.1",     "192.168.255.255", "198.18.0.1",
        "198.19.255.255", "224.0.0.1",       "239.255.255.255", "240.0.0.1",
        "255.255.255.255"}) {
    EXPECT_TRUE(nonPublic(address)) << address;
  }
  for (const char* address : {"1.1.1.1", "8.8.8.8", "9.255.255.255", "11.0.0.0", "100.63.255.255",
                              "100.128.0.0", "126.255.255.255", "128.0.0.0", "169.253.255.255",
                              "169.255.0.0", "172.15.255.255", "172.32.0.0", "192.167.255.255",
                              "192.169.0.0", "198.17.255.255", "198.20.0.0", "223.255.255.255"}) {
    EXPECT_FALSE(nonPublic(address)) << address;
  }
}

TEST(IsNonPublicAddressTest, Ipv6Ranges) {
  for (const char* address :
       {"::", "::1", "::ffff:127.0.0.1", "::ffff:10.1.2.3", "::ffff:169.254.169.254", "::127.0.0.1",
        "::8.8.8.8", "fc00::1", "fd12:3456::1", "fe80::1", "febf::1", "fec0::1", "ff02::1",
        "100::1", "64:ff9b::7f00:1", "64:ff9b:1::1", "2002:7f00:1::1", "2002:c0a8:101::"}) {
    EXPECT_TRUE(nonPublic(address)) << address;
  }
  for (const char* address : {"2606:4700:4700::1111", "2001:4860:4860::8888", "::ffff:8.8.8.8",
                              "64:ff9b::808:808", "2002:808:808::1", "fbff::1", "fe7f::1"}) {
    EXPECT_FALSE(nonPublic(address)) << address;
  }
}

TEST(IsNonPublicAddressTest, JudgesWhatALooseSpellingMeans) {
  for (const char* host : {"2130706433", "0177.0.0.1", "0x7f.1", "0xa9fea9fe", "[::ffff:7f00:1]"}) {
    const std::optional<ip::address> address = parseIpLiteralLoose(host);
    ASSERT_TRUE(address.has_value()) << host;
    EXPECT_TRUE(isNonPublicAddress(*address)) << host;
  }
}

}  // namespace
}  // namespace llmgate::net
