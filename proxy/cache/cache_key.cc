#include "proxy/cache/cache_key.h"

#include <algorithm>
#include <array>
#include <vector>

#include "common/json/canonical.h"
#include "proxy/cache/sha256.h"

namespace llmgate::proxy::cache {
namespace {

constexpr std::size_t kScopeHexChars = 16;

void appendMaterial(std::string& out, std::string_view tenant, std::string_view model,
                    std::string_view provider, std::string_view upstream_model,
                    const boost::json::object& body) {
  // A canonical JSON array: [version, tenant, model, provider, upstream_model, {body}].
  // Every part is a JSON string or object, so no choice of values can make two
  // different inputs produce the same text.
  out.push_back('[');
  json::appendCanonicalString(out, kCacheKeyVersion);
  out.push_back(',');
  json::appendCanonicalString(out, tenant);
  out.push_back(',');
  json::appendCanonicalString(out, model);
  out.push_back(',');
  json::appendCanonicalString(out, provider);
  out.push_back(',');
  json::appendCanonicalString(out, upstream_model);
  out.push_back(',');

  using Member = const boost::json::key_value_pair*;
  std::array<Member, 64> small;
  std::vector<Member> large;
  Member* members = small.data();
  if (body.size() > small.size()) {
    large.resize(body.size());
    members = large.data();
  }
  std::size_t n = 0;
  for (const auto& kv : body) {
    if (!isKeyNeutralField(kv.key())) members[n++] = &kv;
  }
  std::sort(members, members + n, [](Member a, Member b) { return a->key() < b->key(); });
  out.push_back('{');
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out.push_back(',');
    json::appendCanonicalString(out, members[i]->key());
    out.push_back(':');
    json::appendCanonicalJson(out, members[i]->value());
  }
  out.append("}]");
}

}  // namespace

std::string_view CacheKey::scope() const {
  const std::size_t n = kCacheKeyVersion.size() + 1 + kScopeHexChars;
  return std::string_view(value).substr(0, std::min(n, value.size()));
}

std::string_view CacheKey::digest() const {
  const std::size_t n = kCacheKeyVersion.size() + 1 + kScopeHexChars + 1;
  return n < value.size() ? std::string_view(value).substr(n) : std::string_view();
}

namespace {

int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// Appends the bytes of lowercase hex `hex` to `out`; false on anything else.
bool unhex(std::string_view hex, char*& out) {
  if (hex.size() % 2 != 0) return false;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    const int hi = hexValue(hex[i]);
    const int lo = hexValue(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    *out++ = static_cast<char>(hi << 4 | lo);
  }
  return true;
}

}  // namespace

CompactKey::CompactKey(const CacheKey& key) {
  const std::string_view scope = key.scope();
  const std::string_view digest = key.digest();
  const std::size_t prefix = kCacheKeyVersion.size() + 1;
  char* out = buf_.data();
  *out++ = '\0';
  out = std::copy(kCacheKeyVersion.begin(), kCacheKeyVersion.end(), out);
  const bool ok = key.value.size() == prefix + kScopeHexChars + 1 + 64 &&
                  key.value.starts_with(kCacheKeyVersion) && key.value[prefix - 1] == ':' &&
                  key.value[prefix + kScopeHexChars] == ':' && digest.size() == 64 &&
                  unhex(scope.substr(prefix), out) && unhex(digest, out);
  if (ok) {
    size_ = static_cast<std::size_t>(out - buf_.data());
  } else {
    fallback_ = key.value;
  }
}

bool isKeyNeutralField(std::string_view field) {
  return field == "stream" || field == "stream_options" || field == "user" || field == "metadata";
}

std::string cacheKeyMaterial(std::string_view tenant, std::string_view model,
                             std::string_view provider, std::string_view upstream_model,
                             const boost::json::object& chat_body) {
  std::string out;
  appendMaterial(out, tenant, model, provider, upstream_model, chat_body);
  return out;
}

CacheKey makeCacheKey(std::string_view tenant, std::string_view model, std::string_view provider,
                      std::string_view upstream_model, const boost::json::object& chat_body) {
  // One buffer per thread: the material of a typical request is a few KB and
  // reusing its capacity saves an allocation per key.
  thread_local std::string material;
  material.clear();
  appendMaterial(material, tenant, model, provider, upstream_model, chat_body);

  CacheKey key;
  key.value.reserve(kCacheKeyVersion.size() + 1 + kScopeHexChars + 1 + 64);
  key.value.append(kCacheKeyVersion);
  key.value.push_back(':');
  // The scope depends on the tenant alone: remembered per thread for the
  // last tenant seen (one SHA-256 less per key for a steady client).
  thread_local std::string last_tenant;
  thread_local Sha256Digest last_scope{};
  thread_local bool have_scope = false;
  if (!have_scope || last_tenant != tenant) {
    last_scope = sha256(tenant);
    last_tenant.assign(tenant);
    have_scope = true;
  }
  appendHex(key.value, last_scope, kScopeHexChars / 2);
  key.value.push_back(':');
  appendHex(key.value, sha256(material));
  if (material.capacity() > (1u << 20)) {  // do not keep a huge request's buffer
    material.clear();
    material.shrink_to_fit();
  }
  return key;
}

}  // namespace llmgate::proxy::cache
