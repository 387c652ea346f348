#include "proxy/cache/lru_cache.h"

#include <string>
#include <thread>
#include <vector>

#include "common/text/str_cat.h"
#include "gtest/gtest.h"
#include "tests/unit/proxy/cache/test_clock.h"

namespace llmgate::proxy::cache {
namespace {

using testing::FakeClock;

std::shared_ptr<const CachedResponse> response(std::size_t body_bytes, char fill = 'x') {
  return std::make_shared<const CachedResponse>(
      CachedResponse{.body = std::string(body_bytes, fill), .model = "m", .provider = "p"});
}

TEST(LruCache, HitIsTheSameObject) {
  FakeClock clock;
  LruCache cache({.max_bytes = 1 << 20, .shards = 4}, clock);
  auto r = response(100);
  ASSERT_TRUE(cache.put("k", r));
  EXPECT_EQ(cache.get("k").get(), r.get());
  EXPECT_EQ(cache.get("other"), nullptr);
  const auto s = cache.stats();
  EXPECT_EQ(s.hits, 1u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.entries, 1u);
  EXPECT_EQ(s.resident_bytes, LruCache::chargeOf("k", *r));
}

TEST(LruCache, TtlExpiresEntries) {
  FakeClock clock;
  LruCache cache({.max_bytes = 1 << 20, .default_ttl = std::chrono::seconds(10), .shards = 1},
                 clock);
  cache.put("a", response(10));
  cache.put("b", response(10), std::chrono::seconds(60));
  clock.advance(std::chrono::seconds(11));
  EXPECT_EQ(cache.get("a"), nullptr);
  EXPECT_NE(cache.get("b"), nullptr);
  EXPECT_EQ(cache.stats().expirations, 1u);
  EXPECT_EQ(cache.stats().entries, 1u);
  clock.advance(std::chrono::seconds(50));
  EXPECT_EQ(cache.get("b"), nullptr);
  EXPECT_EQ(cache.residentBytes(), 0u);
}

TEST(LruCache, ReplaceKeepsAccountingRight) {
  FakeClock clock;
  LruCache cache({.max_bytes = 1 << 20, .shards = 1}, clock);
  cache.put("k", response(100));
  cache.put("k", response(300));
  EXPECT_EQ(cache.stats().entries, 1u);
  EXPECT_EQ(cache.residentBytes(), LruCache::chargeOf("k", *response(300)));
  EXPECT_TRUE(cache.erase("k"));
  EXPECT_FALSE(cache.erase("k"));
  EXPECT_EQ(cache.residentBytes(), 0u);
}

TEST(LruCache, EvictsLeastRecentlyUsed) {
  FakeClock clock;
  const std::size_t charge = LruCache::chargeOf("k0", *response(1000));
  LruCache cache({.max_bytes = 3 * charge, .shards = 1}, clock);
  cache.put("k0", response(1000));
  cache.put("k1", response(1000));
  cache.put("k2", response(1000));
  ASSERT_NE(cache.get("k0"), nullptr);  // k1 is now the least recently used
  cache.put("k3", response(1000));
  EXPECT_EQ(cache.get("k1"), nullptr);
  EXPECT_NE(cache.get("k0"), nullptr);
  EXPECT_NE(cache.get("k2"), nullptr);
  EXPECT_NE(cache.get("k3"), nullptr);
  EXPECT_EQ(cache.evictions(), 1u);
}

TEST(LruCache, RefusesAnEntryLargerThanAShard) {
  FakeClock clock;
  LruCache cache({.max_bytes = 16 * 1024, .shards = 4}, clock);
  EXPECT_FALSE(cache.put("big", response(5000)));
  EXPECT_EQ(cache.stats().rejected, 1u);
  EXPECT_EQ(cache.residentBytes(), 0u);
}

// R43: insert 2x the cap of large answers: resident bytes never exceed the cap,
// the eviction counter grows, and the most recent entries are the ones kept.
TEST(LruCache, ResidentBytesNeverExceedTheCap) {
  FakeClock clock;
  const std::uint64_t cap = 4 << 20;
  LruCache cache({.max_bytes = cap, .shards = 16}, clock);
  std::uint64_t inserted = 0;
  int i = 0;
  while (inserted < 2 * cap) {
    auto r = response(20000 + (i % 7) * 1000);
    const std::string key = strCat("key-", i++);
    inserted += LruCache::chargeOf(key, *r);
    cache.put(key, r);
    ASSERT_LE(cache.residentBytes(), cap);
  }
  EXPECT_GT(cache.evictions(), 0u);
  EXPECT_GT(cache.residentBytes(), cap / 2);
  EXPECT_NE(cache.get(strCat("key-", i - 1)), nullptr);
  EXPECT_EQ(cache.get("key-0"), nullptr);
}

TEST(LruCache, ConcurrentUseKeepsTheCap) {
  const std::uint64_t cap = 1 << 20;
  LruCache cache({.max_bytes = cap, .shards = 8});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) {
        const std::string key = strCat("k", (i * 7 + t) % 800);
        if (i % 3 == 0) {
          cache.put(key, response(1000 + (i % 5) * 100));
        } else if (auto r = cache.get(key)) {
          ASSERT_FALSE(r->body.empty());
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(cache.residentBytes(), cap);
  std::uint64_t entries = cache.stats().entries;
  cache.clear();
  EXPECT_GT(entries, 0u);
  EXPECT_EQ(cache.residentBytes(), 0u);
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST(LruCache, ShardCountIsAPowerOfTwo) {
  LruCache cache({.max_bytes = 3000 * 12, .shards = 12});  // 16 shards
  EXPECT_EQ(cache.maxBytes(), (3000u * 12 / 16) * 16);
}

}  // namespace
}  // namespace llmgate::proxy::cache
