// Which IP addresses an upstream may never be, unless a provider opts in with
// `allow_private_network: true` (../shared/RELIABILITY.md case 76: SSRF).
// Used twice: by the config loader on base_url literals, and by the upstream
// client on every DNS answer at connect time (DNS rebinding). Header-light on
// purpose: only Asio's address type.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <optional>
#include <string_view>

namespace llmgate::net {

// True for every address that is not a routable public unicast address:
// IPv4 0/8 (incl. unspecified), 10/8, 100.64/10 (CGNAT), 127/8, 169.254/16,
// 172.16/12, 192.0.0/24, 192.168/16, 198.18/15, 224/4 (multicast), 240/4
// (reserved, broadcast); IPv6 ::, ::1, fc00::/7, fe80::/10, fec0::/10,
// ff00::/8, 100::/64, 64:ff9b:1::/48, the deprecated IPv4-compatible ::/96.
// IPv4 addresses embedded in IPv6 (IPv4-mapped ::ffff:0:0/96, NAT64
// 64:ff9b::/96, 6to4 2002::/16) are judged by the IPv4 address they carry.
bool isNonPublicAddress(const boost::asio::ip::address& address);

// Parses `host` as an IP literal in every spelling a resolver or URL parser
// might accept: IPv4 as inet_aton() reads it (1 to 4 parts, each decimal,
// octal with a leading 0, or hex with 0x: "2130706433", "0177.0.0.1",
// "0x7f.1", "127.1"), optionally with one trailing dot; IPv6 with or without
// brackets, a zone ("%eth0", "%25eth0") ignored. Returns nullopt when `host`
// is not an IP literal (a DNS name, or garbage).
std::optional<boost::asio::ip::address> parseIpLiteralLoose(std::string_view host);

}  // namespace llmgate::net
