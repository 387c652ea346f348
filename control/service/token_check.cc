#include "control/service/token_check.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>

namespace llmgate::control::service {
namespace {

std::array<unsigned char, 32> sha256(std::string_view text) {
  std::array<unsigned char, 32> out{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data());
  return out;
}

}  // namespace

TokenChecker::TokenChecker(std::optional<std::string> token) {
  if (token && !token->empty()) {
    configured_ = true;
    digest_ = sha256(*token);
  }
}

bool TokenChecker::check(std::string_view authorization) const {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return false;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return false;
  }
  const std::string_view presented = authorization.substr(kScheme.size());
  // Hash even when not configured so both paths cost the same.
  const std::array<unsigned char, 32> digest = sha256(presented);
  const bool equal = CRYPTO_memcmp(digest.data(), digest_.data(), digest.size()) == 0;
  return configured_ && equal;
}

}  // namespace llmgate::control::service
