#include "common/net/address_policy.h"

#include <array>
#include <cstdint>
#include <string>
#include <system_error>

namespace llmgate::net {
namespace {

namespace ip = boost::asio::ip;

struct V4Range {
  std::uint32_t base;
  int prefix;
};

constexpr std::uint32_t v4(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

constexpr std::array<V4Range, 11> kNonPublicV4 = {{
    {v4(0, 0, 0, 0), 8},       // "this network"; 0.0.0.0 reaches the local host
    {v4(10, 0, 0, 0), 8},      // private
    {v4(100, 64, 0, 0), 10},   // carrier-grade NAT
    {v4(127, 0, 0, 0), 8},     // loopback
    {v4(169, 254, 0, 0), 16},  // link-local, cloud metadata (169.254.169.254)
    {v4(172, 16, 0, 0), 12},   // private
    {v4(192, 0, 0, 0), 24},    // IETF protocol assignments
    {v4(192, 168, 0, 0), 16},  // private
    {v4(198, 18, 0, 0), 15},   // benchmarking
    {v4(224, 0, 0, 0), 4},     // multicast
    {v4(240, 0, 0, 0), 4},     // reserved, limited broadcast
}};

bool inRange(std::uint32_t address, const V4Range& range) {
  const std::uint32_t mask = range.prefix == 0 ? 0 : ~std::uint32_t{0} << (32 - range.prefix);
  return (address & mask) == (range.base & mask);
}

bool isNonPublicV4(const ip::address_v4& address) {
  const std::uint32_t value = address.to_uint();
  for (const V4Range& range : kNonPublicV4) {
    if (inRange(value, range)) return true;
  }
  return false;
}

ip::address_v4 v4At(const ip::address_v6::bytes_type& bytes, std::size_t offset) {
  return ip::address_v4(ip::address_v4::bytes_type{bytes[offset], bytes[offset + 1],
                                                   bytes[offset + 2], bytes[offset + 3]});
}

bool allZero(const ip::address_v6::bytes_type& bytes, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i) {
    if (bytes[i] != 0) return false;
  }
  return true;
}

bool isNonPublicV6(const ip::address_v6& address) {
  const ip::address_v6::bytes_type b = address.to_bytes();
  // ::ffff:a.b.c.d (IPv4-mapped): what a dual-stack socket really connects to.
  if (allZero(b, 0, 10) && b[10] == 0xff && b[11] == 0xff) return isNonPublicV4(v4At(b, 12));
  // ::/96 holds :: and ::1 and the deprecated IPv4-compatible form; none is public.
  if (allZero(b, 0, 12)) return true;
  // 64:ff9b::/96: NAT64 translates to the embedded IPv4 address.
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && allZero(b, 4, 12)) {
    return isNonPublicV4(v4At(b, 12));
  }
  // 64:ff9b:1::/48: local-use NAT64.
  if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xff && b[3] == 0x9b && b[4] == 0x00 &&
      b[5] == 0x01) {
    return true;
  }
  // 100::/64: discard-only.
  if (b[0] == 0x01 && b[1] == 0x00 && allZero(b, 2, 8)) return true;
  // 2002::/16 (6to4): a relay forwards to the embedded IPv4 address.
  if (b[0] == 0x20 && b[1] == 0x02) return isNonPublicV4(v4At(b, 2));
  if ((b[0] & 0xfe) == 0xfc) return true;                  // fc00::/7 unique local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return true;  // fe80::/10 link-local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return true;  // fec0::/10 site-local
  if (b[0] == 0xff) return true;                           // ff00::/8 multicast
  return false;
}

bool isDigit(char c) { return c >= '0' && c <= '9'; }

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// One inet_aton() part: decimal, 0-prefixed octal or 0x-prefixed hex.
std::optional<std::uint64_t> parseV4Part(std::string_view part) {
  if (part.empty()) return std::nullopt;
  int base = 10;
  if (part.size() >= 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X')) {
    base = 16;
    part.remove_prefix(2);
    // inet_aton() and the WHATWG URL parser both read a bare "0x" as 0.
    if (part.empty()) return 0;
  } else if (part.size() >= 2 && part[0] == '0') {
    base = 8;
    part.remove_prefix(1);
  }
  std::uint64_t value = 0;
  for (char c : part) {
    const int digit = base == 16 ? hexValue(c) : (isDigit(c) ? c - '0' : -1);
    if (digit < 0 || digit >= base) return std::nullopt;
    value = value * base + static_cast<std::uint64_t>(digit);
    if (value > 0xffffffffull) return std::nullopt;
  }
  return value;
}

std::optional<ip::address_v4> parseV4Loose(std::string_view host) {
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  if (host.empty()) return std::nullopt;
  std::array<std::uint64_t, 4> parts{};
  std::size_t count = 0;
  while (true) {
    const std::size_t dot = host.find('.');
    if (count == parts.size()) return std::nullopt;
    const std::optional<std::uint64_t> part = parseV4Part(host.substr(0, dot));
    if (!part) return std::nullopt;
    parts[count++] = *part;
    if (dot == std::string_view::npos) break;
    host.remove_prefix(dot + 1);
  }
  // The last part fills all the bytes the earlier ones left: "127.1" is 127.0.0.1.
  std::uint64_t value = 0;
  for (std::size_t i = 0; i + 1 < count; ++i) {
    if (parts[i] > 0xff) return std::nullopt;
    value |= parts[i] << (8 * (3 - i));
  }
  const std::uint64_t last_max = 0xffffffffull >> (8 * (count - 1));
  if (parts[count - 1] > last_max) return std::nullopt;
  value |= parts[count - 1];
  return ip::address_v4(static_cast<std::uint32_t>(value));
}

std::optional<ip::address_v6> parseV6(std::string_view host) {
  // The zone ("%eth0", URL-encoded "%25eth0") does not change the address class.
  if (const std::size_t percent = host.find('%'); percent != std::string_view::npos) {
    host = host.substr(0, percent);
  }
  boost::system::error_code ec;
  const ip::address_v6 address = ip::make_address_v6(std::string(host), ec);
  if (ec) return std::nullopt;
  return address;
}

}  // namespace

bool isNonPublicAddress(const boost::asio::ip::address& address) {
  if (address.is_v4()) return isNonPublicV4(address.to_v4());
  return isNonPublicV6(address.to_v6());
}

std::optional<boost::asio::ip::address> parseIpLiteralLoose(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    if (auto v6 = parseV6(host.substr(1, host.size() - 2))) return ip::address(*v6);
    return std::nullopt;
  }
  if (host.find(':') != std::string_view::npos) {
    if (auto v6 = parseV6(host)) return ip::address(*v6);
    return std::nullopt;
  }
  if (auto v4 = parseV4Loose(host)) return ip::address(*v4);
  return std::nullopt;
}

}  // namespace llmgate::net
