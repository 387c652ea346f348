// The Cache a worker uses: the process-wide L1 (LruCache) in front of this
// worker's L2 connection (RedisCache, optional).
#pragma once

#include <chrono>

#include "proxy/cache/cache.h"
#include "proxy/cache/lru_cache.h"
#include "proxy/cache/redis_cache.h"

namespace llmgate::proxy::cache {

struct TieredCacheStats {
  std::uint64_t l2_decode_failures = 0;  // L2 values that did not decode (served as misses)
};

class TieredCache final : public Cache {
 public:
  // `l1` is shared by all workers; `l2` is this worker's (nullptr: no Redis).
  // Both outlive this object. Used from the worker's thread only.
  TieredCache(LruCache& l1, RedisCache* l2, std::chrono::milliseconds l2_ttl);

  // L1; on a miss L2 (at most cache.redis.timeout), promoting a hit to L1.
  boost::asio::awaitable<std::optional<CacheHit>> lookup(const CacheKey& key) override;
  // L1 at once, then L2 (at most cache.redis.timeout). A caller that must not
  // wait even that long co_spawns it detached after answering.
  boost::asio::awaitable<void> store(const CacheKey& key,
                                     std::shared_ptr<const CachedResponse> response) override;

  void storeLocal(const CacheKey& key, std::shared_ptr<const CachedResponse> response) override;
  boost::asio::awaitable<void> storeShared(const CacheKey& key,
                                           std::shared_ptr<const CachedResponse> response) override;

  TieredCacheStats stats() const { return stats_; }
  std::uint64_t l1ResidentBytes() const override { return l1_.residentBytes(); }
  bool l2Available() const override { return l2_ != nullptr && l2_->available(); }

 private:
  LruCache& l1_;
  RedisCache* l2_;
  std::chrono::milliseconds l2_ttl_;
  TieredCacheStats stats_;
};

}  // namespace llmgate::proxy::cache
