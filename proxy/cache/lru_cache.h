// L1: the in-process cache every worker thread shares. Sharded (a mutex, an
// intrusive LRU list and a hash map per shard) so that workers rarely contend;
// bounded by bytes, not entries; every entry has a TTL.
//
// A hit returns the stored shared_ptr: a refcount increment, no copy, and the
// answer stays alive for the request that got it even if it is evicted.
//
// Byte accounting: an entry costs key.size() + value->byteSize() +
// kEntryOverheadBytes (list node, hash node and bucket, control block). Each
// shard's cap is max_bytes / shards; an insert evicts least-recently-used
// entries of its shard until it fits, and an entry larger than a shard's cap
// is refused. So residentBytes() <= max_bytes at all times (R43).
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/time/clock.h"
#include "proxy/cache/cache.h"

namespace llmgate::proxy::cache {

struct LruCacheOptions {
  std::uint64_t max_bytes = 256ull << 20;
  std::chrono::nanoseconds default_ttl = std::chrono::hours(1);
  std::size_t shards = 16;  // rounded up to a power of two
};

struct LruCacheStats {
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;  // includes expired entries found
  std::uint64_t inserts = 0;
  std::uint64_t evictions = 0;    // entries pushed out to make room
  std::uint64_t expirations = 0;  // entries dropped because their TTL ran out
  std::uint64_t rejected = 0;     // entries larger than a shard's cap
  std::uint64_t resident_bytes = 0;
  std::uint64_t entries = 0;
};

class LruCache {
 public:
  using Value = std::shared_ptr<const CachedResponse>;

  // The per-entry bookkeeping beyond the key's characters and
  // value->byteSize(), on libstdc++/glibc: Entry with the key inline (72 +
  // malloc header and rounding, up to 24) + hash-set node (32) + bucket (8) +
  // make_shared control block (16) + the body's malloc header and rounding (~24).
  static constexpr std::size_t kEntryOverheadBytes = 176;

  explicit LruCache(LruCacheOptions options,
                    const time::Clock& clock = time::RealClock::instance());
  ~LruCache();
  LruCache(const LruCache&) = delete;
  LruCache& operator=(const LruCache&) = delete;

  // nullptr on a miss or an expired entry (which is removed). A hit becomes
  // the most recently used entry of its shard.
  Value get(std::string_view key);

  // Inserts or replaces. `ttl` <= 0 means the default TTL. Returns false when
  // the entry alone exceeds a shard's cap (nothing is stored then).
  bool put(std::string_view key, Value value, std::chrono::nanoseconds ttl = {});

  bool erase(std::string_view key);
  void clear();

  // What `key`/`value` count against the cap.
  static std::size_t chargeOf(std::string_view key, const CachedResponse& value);

  std::uint64_t residentBytes() const;
  std::uint64_t maxBytes() const { return shard_cap_ * shards_.size(); }
  std::uint64_t evictions() const;
  LruCacheStats stats() const;

 private:
  struct Entry;
  struct Shard;

  Shard& shardFor(std::string_view key, std::size_t& hash);

  const time::Clock& clock_;
  std::chrono::nanoseconds default_ttl_;
  std::uint64_t shard_cap_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::size_t shard_mask_;
};

}  // namespace llmgate::proxy::cache
