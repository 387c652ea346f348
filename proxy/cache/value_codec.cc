#include "proxy/cache/value_codec.h"

#include <charconv>
#include <cstdint>

#include "boost/crc.hpp"
#include "common/text/str_cat.h"

namespace llmgate::proxy::cache {
namespace {

constexpr std::size_t kCrcHexChars = 8;

std::uint32_t crc32(std::string_view data) {
  boost::crc_32_type crc;
  crc.process_bytes(data.data(), data.size());
  return crc.checksum();
}

void appendHex32(std::string& out, std::uint32_t v) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (int shift = 28; shift >= 0; shift -= 4) out.push_back(kHex[(v >> shift) & 0xf]);
}

template <typename Int>
bool readNumber(std::string_view& s, char terminator, Int& out) {
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  if (ec != std::errc() || ptr == s.data() + s.size() || *ptr != terminator) return false;
  s.remove_prefix(static_cast<std::size_t>(ptr - s.data()) + 1);
  return true;
}

}  // namespace

std::string encodeCachedResponse(const CachedResponse& r) {
  std::string payload =
      strCat(r.model.size(), ' ', r.provider.size(), ' ', r.prompt_tokens, ' ',
             r.cached_prompt_tokens, ' ', r.completion_tokens, ' ', r.created, '\n');
  payload.reserve(payload.size() + r.model.size() + r.provider.size() + r.body.size());
  payload.append(r.model).append(r.provider).append(r.body);
  std::string frame;
  frame.reserve(kValueFormat.size() + kCrcHexChars + payload.size());
  frame.append(kValueFormat);
  appendHex32(frame, crc32(payload));
  frame.append(payload);
  return frame;
}

std::optional<CachedResponse> decodeCachedResponse(std::string_view frame) {
  if (frame.size() < kValueFormat.size() + kCrcHexChars ||
      frame.substr(0, kValueFormat.size()) != kValueFormat) {
    return std::nullopt;
  }
  // Exactly the encoder's spelling (lower-case hex), so every byte of the frame is checked.
  std::uint32_t stored_crc = 0;
  for (char c : frame.substr(kValueFormat.size(), kCrcHexChars)) {
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
    if (digit < 0) return std::nullopt;
    stored_crc = (stored_crc << 4) | static_cast<std::uint32_t>(digit);
  }
  std::string_view payload = frame.substr(kValueFormat.size() + kCrcHexChars);
  if (crc32(payload) != stored_crc) return std::nullopt;

  std::size_t model_len = 0, provider_len = 0;
  CachedResponse r;
  if (!readNumber(payload, ' ', model_len) || !readNumber(payload, ' ', provider_len) ||
      !readNumber(payload, ' ', r.prompt_tokens) ||
      !readNumber(payload, ' ', r.cached_prompt_tokens) ||
      !readNumber(payload, ' ', r.completion_tokens) || !readNumber(payload, '\n', r.created)) {
    return std::nullopt;
  }
  if (model_len > payload.size() || provider_len > payload.size() - model_len) return std::nullopt;
  r.model = std::string(payload.substr(0, model_len));
  r.provider = std::string(payload.substr(model_len, provider_len));
  r.body = std::string(payload.substr(model_len + provider_len));
  if (r.body.empty()) return std::nullopt;
  return r;
}

}  // namespace llmgate::proxy::cache
