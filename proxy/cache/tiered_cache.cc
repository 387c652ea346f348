#include "proxy/cache/tiered_cache.h"

#include <string>
#include <utility>

#include "proxy/cache/value_codec.h"

namespace llmgate::proxy::cache {

TieredCache::TieredCache(LruCache& l1, RedisCache* l2, std::chrono::milliseconds l2_ttl)
    : l1_(l1), l2_(l2), l2_ttl_(l2_ttl) {}

boost::asio::awaitable<std::optional<CacheHit>> TieredCache::lookup(const CacheKey& key) {
  const CompactKey l1_key(key);
  if (auto hit = l1_.get(l1_key.view())) co_return CacheHit{std::move(hit), CacheTier::kL1};
  if (l2_ == nullptr) co_return std::nullopt;
  std::string l2_key = key.value;
  std::optional<std::string> frame = co_await l2_->get(std::move(l2_key));
  if (!frame) co_return std::nullopt;
  std::optional<CachedResponse> decoded = decodeCachedResponse(*frame);
  if (!decoded) {
    ++stats_.l2_decode_failures;
    co_return std::nullopt;
  }
  auto response = std::make_shared<const CachedResponse>(*std::move(decoded));
  l1_.put(l1_key.view(), response);
  co_return CacheHit{std::move(response), CacheTier::kL2};
}

boost::asio::awaitable<void> TieredCache::store(const CacheKey& key,
                                                std::shared_ptr<const CachedResponse> response) {
  if (response == nullptr) co_return;
  storeLocal(key, response);
  co_await storeShared(key, std::move(response));
}

void TieredCache::storeLocal(const CacheKey& key, std::shared_ptr<const CachedResponse> response) {
  if (response != nullptr) l1_.put(CompactKey(key).view(), std::move(response));
}

boost::asio::awaitable<void> TieredCache::storeShared(
    const CacheKey& key, std::shared_ptr<const CachedResponse> response) {
  if (response == nullptr || l2_ == nullptr || !l2_->available()) co_return;
  std::string l2_key = key.value;
  std::string frame = encodeCachedResponse(*response);
  const bool stored = co_await l2_->set(std::move(l2_key), std::move(frame), l2_ttl_);
  (void)stored;  // counted by RedisCache
}

}  // namespace llmgate::proxy::cache
