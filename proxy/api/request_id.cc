#include "proxy/api/request_id.h"

namespace llmgate::proxy::api {

bool isAcceptableRequestId(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string makeRequestId(std::mt19937_64& rng) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id = "req_";
  id.reserve(28);
  std::uint64_t a = rng();
  std::uint64_t b = rng();
  for (int i = 0; i < 16; ++i, a >>= 4) id += kHex[a & 0xf];
  for (int i = 0; i < 8; ++i, b >>= 4) id += kHex[b & 0xf];
  return id;
}

}  // namespace llmgate::proxy::api
