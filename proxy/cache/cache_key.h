// The cache key: a key-format version, a tenant scope and a SHA-256 over the
// canonical JSON of everything that can change the answer (docs/CACHE.md).
//
//   "v1:" + hex(sha256(tenant))[0..16) + ":" + hex(sha256(canonical input))
//
// The scope prefix is computed from the tenant alone (which comes from the
// authenticated client key), so no body field or header can move a request
// into another tenant's key space (R69). The tenant is hashed into the digest
// as well, so even a scope-prefix collision could not share an entry.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "boost/json/object.hpp"

namespace llmgate::proxy::cache {

// Bump when anything about what is hashed, or how, changes: old entries then
// simply stop matching (and expire by TTL).
inline constexpr std::string_view kCacheKeyVersion = "v1";

struct CacheKey {
  std::string value;  // "v1:<16 hex scope>:<64 hex digest>"

  // "v1:<16 hex scope>": the part of the key that only the tenant decides.
  std::string_view scope() const;
  std::string_view digest() const;
  friend bool operator==(const CacheKey&, const CacheKey&) = default;
};

// The key as L1 stores it: "\0" + version + the scope's 8 and the digest's
// 32 bytes in binary (43 bytes instead of 84). A key not in CacheKey's format
// (tests) is kept as it is; the leading NUL keeps the two forms apart.
class CompactKey {
 public:
  explicit CompactKey(const CacheKey& key);
  std::string_view view() const {
    return fallback_.empty() ? std::string_view(buf_.data(), size_) : fallback_;
  }

 private:
  std::array<char, 48> buf_;
  std::size_t size_ = 0;
  std::string_view fallback_;
};

// Top-level request fields that never change the answer and are left out of
// the key: "stream", "stream_options", "user", "metadata". Every other field,
// known or not, is part of the key (an unknown field might matter).
bool isKeyNeutralField(std::string_view field);

// `model` is the model llmgate resolved (alias or route target), `provider`
// and `upstream_model` the target that will answer; `chat_body` is the client's
// request body as sent (its own "model" field is hashed too).
CacheKey makeCacheKey(std::string_view tenant, std::string_view model, std::string_view provider,
                      std::string_view upstream_model, const boost::json::object& chat_body);

// The exact text that is hashed (for tests and debugging; never log it: it
// contains the prompt).
std::string cacheKeyMaterial(std::string_view tenant, std::string_view model,
                             std::string_view provider, std::string_view upstream_model,
                             const boost::json::object& chat_body);

}  // namespace llmgate::proxy::cache
