#include "common/json/canonical.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "boost/json/object.hpp"

namespace llmgate::json {
namespace {

template <typename Int>
void appendInt(std::string& out, Int v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void appendDouble(std::string& out, double d) {
  // Boost.JSON never produces NaN/Infinity from text; a programmatic value
  // could, and JSON has no spelling for it.
  if (!std::isfinite(d)) {
    out.append("null");
    return;
  }
  if (d == 0) {  // also -0
    out.push_back('0');
    return;
  }
  if (std::trunc(d) == d) {
    // Integral: spell it like the integer it equals, so 1.0 == 1 and 1e3 == 1000.
    constexpr double kTwo63 = 9223372036854775808.0;
    constexpr double kTwo64 = 18446744073709551616.0;
    if (d >= -kTwo63 && d < kTwo63) {
      appendInt(out, static_cast<std::int64_t>(d));
      return;
    }
    if (d > 0 && d < kTwo64) {
      appendInt(out, static_cast<std::uint64_t>(d));
      return;
    }
    char buf[400];  // the widest double in fixed notation is 309 digits
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
    out.append(buf, ec == std::errc() ? end : buf);
    return;
  }
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);
  out.append(buf, end);
}

void appendObject(std::string& out, const boost::json::object& obj) {
  // Sort pointers to the members, not the members: a small array on the stack
  // covers nearly every object in a chat request.
  using Member = const boost::json::key_value_pair*;
  std::array<Member, 32> small;
  std::vector<Member> large;
  Member* begin = small.data();
  const std::size_t n = obj.size();
  if (n > small.size()) {
    large.resize(n);
    begin = large.data();
  }
  std::size_t i = 0;
  for (const auto& kv : obj) begin[i++] = &kv;
  std::sort(begin, begin + n, [](Member a, Member b) { return a->key() < b->key(); });
  out.push_back('{');
  for (i = 0; i < n; ++i) {
    if (i) out.push_back(',');
    appendCanonicalString(out, begin[i]->key());
    out.push_back(':');
    appendCanonicalJson(out, begin[i]->value());
  }
  out.push_back('}');
}

// True if any of the 8 bytes in `w` is a control character, '"' or '\\'
// (the classic "has a zero byte" bit trick; false positives only cost the
// byte-by-byte path, false negatives cannot happen).
inline bool needsEscape(std::uint64_t w) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ull;
  constexpr std::uint64_t kHigh = 0x8080808080808080ull;
  auto hasZero = [](std::uint64_t v) { return (v - kOnes) & ~v & kHigh; };
  const std::uint64_t below_space = (w - kOnes * 0x20) & ~w & kHigh;
  return (below_space | hasZero(w ^ (kOnes * '"')) | hasZero(w ^ (kOnes * '\\'))) != 0;
}

}  // namespace

void appendCanonicalString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t run = 0;  // start of the pending run of bytes that need no escape
  std::size_t i = 0;
  while (i < s.size()) {
    // Skip 8 plain bytes at a time: most of a prompt needs no escaping.
    if (i + 8 <= s.size()) {
      std::uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if (!needsEscape(w)) {
        i += 8;
        continue;
      }
    }
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    out.append(s.data() + run, i - run);
    run = ++i;
    out.push_back('\\');
    switch (c) {
      case '"':
        out.push_back('"');
        break;
      case '\\':
        out.push_back('\\');
        break;
      case '\b':
        out.push_back('b');
        break;
      case '\f':
        out.push_back('f');
        break;
      case '\n':
        out.push_back('n');
        break;
      case '\r':
        out.push_back('r');
        break;
      case '\t':
        out.push_back('t');
        break;
      default:
        out.append("u00");
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

void appendCanonicalJson(std::string& out, const boost::json::value& value) {
  switch (value.kind()) {
    case boost::json::kind::null:
      out.append("null");
      return;
    case boost::json::kind::bool_:
      out.append(value.get_bool() ? "true" : "false");
      return;
    case boost::json::kind::int64:
      appendInt(out, value.get_int64());
      return;
    case boost::json::kind::uint64:
      appendInt(out, value.get_uint64());
      return;
    case boost::json::kind::double_:
      appendDouble(out, value.get_double());
      return;
    case boost::json::kind::string:
      appendCanonicalString(out, value.get_string());
      return;
    case boost::json::kind::array: {
      out.push_back('[');
      bool first = true;
      for (const auto& v : value.get_array()) {
        if (!first) out.push_back(',');
        first = false;
        appendCanonicalJson(out, v);
      }
      out.push_back(']');
      return;
    }
    case boost::json::kind::object:
      appendObject(out, value.get_object());
      return;
  }
}

std::string canonicalJson(const boost::json::value& value) {
  std::string out;
  appendCanonicalJson(out, value);
  return out;
}

}  // namespace llmgate::json
