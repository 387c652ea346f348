#include "proxy/cache/lru_cache.h"

#include <bit>
#include <cstring>
#include <functional>
#include <new>
#include <unordered_set>
#include <utility>

namespace llmgate::proxy::cache {

// One allocation per entry: the key's bytes follow the struct (no separate
// heap string), and the hash set holds plain pointers (a 24-byte node).
struct LruCache::Entry {
  Value value;
  time::SteadyTime expires{};
  std::size_t charge = 0;
  std::size_t hash = 0;
  Entry* prev = nullptr;  // towards the most recently used end
  Entry* next = nullptr;
  std::uint32_t key_size = 0;

  std::string_view key() const {
    return {reinterpret_cast<const char*>(this) + sizeof(Entry), key_size};
  }
  static Entry* make(std::string_view key) {
    void* raw = ::operator new(sizeof(Entry) + key.size());
    Entry* e = ::new (raw) Entry();
    e->key_size = static_cast<std::uint32_t>(key.size());
    std::memcpy(static_cast<char*>(raw) + sizeof(Entry), key.data(), key.size());
    return e;
  }
  static void destroy(Entry* e) {
    e->~Entry();
    ::operator delete(static_cast<void*>(e));
  }
};

struct LruCache::Shard {
  struct PrehashedKey {
    std::string_view key;
    std::size_t hash;
  };
  // Heterogeneous lookup: the set stores Entry*, is searched by PrehashedKey.
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(const Entry* e) const { return e->hash; }
    std::size_t operator()(const PrehashedKey& k) const { return k.hash; }
  };
  struct KeyEq {
    using is_transparent = void;
    bool operator()(const Entry* a, const Entry* b) const { return a == b; }
    bool operator()(const PrehashedKey& k, const Entry* e) const { return k.key == e->key(); }
    bool operator()(const Entry* e, const PrehashedKey& k) const { return k.key == e->key(); }
  };
  using Map = std::unordered_set<Entry*, KeyHash, KeyEq>;

  mutable std::mutex mu;
  Map map;     // owns its entries (freed by remove(), clear() and the destructor)
  Entry head;  // sentinel: head.next is the most recent, head.prev the least recent
  std::uint64_t bytes = 0;
  std::atomic<std::uint64_t> resident{0};  // mirrors `bytes` for lock-free gauges
  std::atomic<std::uint64_t> hits{0}, misses{0}, inserts{0}, evictions{0}, expirations{0},
      rejected{0}, entries{0};

  Shard() { head.prev = head.next = &head; }
  ~Shard() {
    for (Entry* e : map) Entry::destroy(e);
  }

  static void unlink(Entry* e) {
    e->prev->next = e->next;
    e->next->prev = e->prev;
  }
  void pushFront(Entry* e) {
    e->next = head.next;
    e->prev = &head;
    head.next->prev = e;
    head.next = e;
  }
  // Removes `e` (which is in the map) and frees it.
  void remove(Entry* e) {
    unlink(e);
    bytes -= e->charge;
    map.erase(e);
    Entry::destroy(e);
    publish();
  }
  void publish() {
    resident.store(bytes, std::memory_order_relaxed);
    entries.store(map.size(), std::memory_order_relaxed);
  }
};

LruCache::LruCache(LruCacheOptions options, const time::Clock& clock)
    : clock_(clock), default_ttl_(options.default_ttl) {
  const std::size_t n = std::bit_ceil(std::max<std::size_t>(options.shards, 1));
  shard_cap_ = options.max_bytes / n;
  shards_.reserve(n);
  for (std::size_t i = 0; i < n; ++i) shards_.push_back(std::make_unique<Shard>());
  shard_mask_ = n - 1;
}

LruCache::~LruCache() = default;

std::size_t LruCache::chargeOf(std::string_view key, const CachedResponse& value) {
  return key.size() + value.byteSize() + kEntryOverheadBytes;
}

LruCache::Shard& LruCache::shardFor(std::string_view key, std::size_t& hash) {
  hash = std::hash<std::string_view>{}(key);
  // High bits pick the shard, low bits the bucket inside it.
  return *shards_[(hash >> 48) & shard_mask_];
}

LruCache::Value LruCache::get(std::string_view key) {
  std::size_t hash = 0;
  Shard& s = shardFor(key, hash);
  const auto now = clock_.steadyNow();
  std::lock_guard lock(s.mu);
  auto it = s.map.find(Shard::PrehashedKey{key, hash});
  if (it == s.map.end()) {
    s.misses.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  Entry* e = *it;
  if (e->expires <= now) {
    s.remove(e);
    s.expirations.fetch_add(1, std::memory_order_relaxed);
    s.misses.fetch_add(1, std::memory_order_relaxed);
    return nullptr;
  }
  Shard::unlink(e);
  s.pushFront(e);
  s.hits.fetch_add(1, std::memory_order_relaxed);
  return e->value;
}

bool LruCache::put(std::string_view key, Value value, std::chrono::nanoseconds ttl) {
  if (value == nullptr) return false;
  std::size_t hash = 0;
  Shard& s = shardFor(key, hash);
  const std::size_t charge = chargeOf(key, *value);
  if (charge > shard_cap_) {
    s.rejected.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  std::unique_ptr<Entry, void (*)(Entry*)> entry(Entry::make(key), &Entry::destroy);
  entry->value = std::move(value);
  entry->expires = clock_.steadyNow() + (ttl.count() > 0 ? ttl : default_ttl_);
  entry->charge = charge;
  entry->hash = hash;

  Value displaced;  // released after the lock: the last reference may free a large body
  std::vector<Value> evicted;
  {
    std::lock_guard lock(s.mu);
    if (auto it = s.map.find(Shard::PrehashedKey{key, hash}); it != s.map.end()) {
      displaced = (*it)->value;
      s.remove(*it);
    }
    while (s.bytes + charge > shard_cap_ && s.head.prev != &s.head) {
      Entry* victim = s.head.prev;
      evicted.push_back(victim->value);
      s.remove(victim);
      s.evictions.fetch_add(1, std::memory_order_relaxed);
    }
    Entry* e = entry.release();
    s.map.insert(e);
    s.pushFront(e);
    s.bytes += charge;
    s.inserts.fetch_add(1, std::memory_order_relaxed);
    s.publish();
  }
  return true;
}

bool LruCache::erase(std::string_view key) {
  std::size_t hash = 0;
  Shard& s = shardFor(key, hash);
  Value value;
  std::lock_guard lock(s.mu);
  auto it = s.map.find(Shard::PrehashedKey{key, hash});
  if (it == s.map.end()) return false;
  value = (*it)->value;
  s.remove(*it);
  return true;
}

void LruCache::clear() {
  for (auto& shard : shards_) {
    Shard::Map old;
    {
      std::lock_guard lock(shard->mu);
      old.swap(shard->map);
      shard->head.prev = shard->head.next = &shard->head;
      shard->bytes = 0;
      shard->publish();
    }
    for (Entry* e : old) Entry::destroy(e);  // outside the lock: bodies may be large
  }
}

std::uint64_t LruCache::residentBytes() const {
  std::uint64_t total = 0;
  for (const auto& s : shards_) total += s->resident.load(std::memory_order_relaxed);
  return total;
}

std::uint64_t LruCache::evictions() const {
  std::uint64_t total = 0;
  for (const auto& s : shards_) total += s->evictions.load(std::memory_order_relaxed);
  return total;
}

LruCacheStats LruCache::stats() const {
  LruCacheStats out;
  for (const auto& s : shards_) {
    out.hits += s->hits.load(std::memory_order_relaxed);
    out.misses += s->misses.load(std::memory_order_relaxed);
    out.inserts += s->inserts.load(std::memory_order_relaxed);
    out.evictions += s->evictions.load(std::memory_order_relaxed);
    out.expirations += s->expirations.load(std::memory_order_relaxed);
    out.rejected += s->rejected.load(std::memory_order_relaxed);
    out.resident_bytes += s->resident.load(std::memory_order_relaxed);
    out.entries += s->entries.load(std::memory_order_relaxed);
  }
  return out;
}

}  // namespace llmgate::proxy::cache
