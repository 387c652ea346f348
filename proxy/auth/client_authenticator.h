// Client keys -> tenants. Keys are kept only as SHA-256 digests; a presented
// key is hashed and looked up, and the digest compared with CRYPTO_memcmp, so
// timing does not reveal which keys exist (../shared/RELIABILITY.md case 58).
#pragma once

#include <array>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/schema.h"

namespace llmgate::proxy::auth {

class ClientAuthenticator {
 public:
  explicit ClientAuthenticator(const std::vector<config::ClientConfig>& clients);

  // With no clients configured every request is tenant "default". Otherwise
  // the tenant of the key in `authorization` ("Bearer <key>"), or nullopt
  // when it is missing, malformed, oversized or unknown.
  std::optional<std::string> tenantFor(std::string_view authorization) const;

  bool enabled() const { return !by_digest_.empty(); }

 private:
  using Digest = std::array<unsigned char, 32>;
  std::map<Digest, std::string> by_digest_;
};

}  // namespace llmgate::proxy::auth
