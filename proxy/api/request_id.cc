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
  char id[28] = {'r', 'e', 'q', '_'};
  std::uint64_t a = rng();
  std::uint64_t b = rng();
  for (int i = 4; i < 20; ++i, a >>= 4) id[i] = kHex[a & 0xf];
  for (int i = 20; i < 28; ++i, b >>= 4) id[i] = kHex[b & 0xf];
  return std::string(id, sizeof id);
}

}  // namespace llmgate::proxy::api
