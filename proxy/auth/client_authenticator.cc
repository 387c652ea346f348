#include "proxy/auth/client_authenticator.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

namespace llmgate::proxy::auth {
namespace {

constexpr std::size_t kMaxKeyBytes = 512;

std::array<unsigned char, 32> sha256(std::string_view text) {
  std::array<unsigned char, 32> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  return digest;
}

}  // namespace

ClientAuthenticator::ClientAuthenticator(const std::vector<config::ClientConfig>& clients) {
  for (const auto& client : clients) by_digest_.emplace(sha256(client.key.value), client.tenant);
}

std::optional<std::string> ClientAuthenticator::tenantFor(std::string_view authorization) const {
  if (by_digest_.empty()) return std::string("default");
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() <= kBearer.size() ||
      authorization.size() > kMaxKeyBytes + kBearer.size())
    return std::nullopt;
  if (authorization.substr(0, kBearer.size()) != kBearer &&
      authorization.substr(0, kBearer.size()) != "bearer ")
    return std::nullopt;
  const std::string_view key = authorization.substr(kBearer.size());
  for (char c : key) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return std::nullopt;
  }
  const auto digest = sha256(key);
  auto it = by_digest_.lower_bound(digest);
  if (it == by_digest_.end()) return std::nullopt;
  if (CRYPTO_memcmp(it->first.data(), digest.data(), digest.size()) != 0) return std::nullopt;
  return it->second;
}

}  // namespace llmgate::proxy::auth
