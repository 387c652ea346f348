// SeriesMap: label values -> metric handles, resolved once per label set.
// prometheus-cpp's `Family::Add(labels)` builds a label map, hashes it and
// takes the family's mutex (about 200 increments' worth), so the request path
// looks the handle up here instead: a sharded hash map with a short lock per
// lookup, heterogeneous lookup by string_view (no allocation on a hit), and
// the registry call only on first use of a label set.
//
// The series count is bounded by the callers passing configured names or
// small enums as label values (R67). As a safety net, past `max_sets` label
// sets every new set maps to one overflow set whose values are all "other".
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"

namespace llmgate::proxy::telemetry {

template <std::size_t N, typename Handle>
class SeriesMap {
 public:
  using Values = std::array<std::string_view, N>;

  explicit SeriesMap(std::size_t max_sets = 10000) : max_sets_(max_sets) {}
  SeriesMap(const SeriesMap&) = delete;
  SeriesMap& operator=(const SeriesMap&) = delete;

  // The handle for `values`; `make(values)` creates it the first time (under
  // the shard's lock, so at most once per label set). Handle is small and
  // copyable (a pointer or a struct of pointers into the registry).
  template <typename Make>
  Handle get(const Values& values, Make&& make) {
    // A per-thread memo in front of the shards: label values are mostly
    // the same configured strings request after request, so their
    // addresses pick a slot and a content compare confirms it (an address
    // reused for other text is a miss, never a wrong series).
    MemoEntry& memo = memoSlot(values);
    if (memo.owner == id_ && Equal{}(memo.key, values)) return memo.handle;
    Handle handle = lookup(values, std::forward<Make>(make));
    memo.owner = id_;
    memo.key = toKey(values);
    memo.handle = handle;
    return handle;
  }

  // Label sets resolved so far (not counting the overflow set).
  std::size_t size() const { return size_.load(std::memory_order_relaxed); }

 private:
  template <typename Make>
  Handle lookup(const Values& values, Make&& make) {
    const std::size_t hash = Hasher{}(values);
    Shard& shard = shards_[(hash >> 7) % kShards];
    std::lock_guard lock(shard.mu);
    if (auto it = shard.map.find(values); it != shard.map.end()) return it->second;
    if (size_.load(std::memory_order_relaxed) >= max_sets_) {
      return overflow(std::forward<Make>(make));
    }
    Handle handle = make(values);
    shard.map.emplace(toKey(values), handle);
    size_.fetch_add(1, std::memory_order_relaxed);
    return handle;
  }

  static constexpr std::size_t kShards = 16;
  static constexpr std::size_t kMemoSlots = 16;
  using Key = std::array<std::string, N>;

  struct MemoEntry {
    std::uint64_t owner = 0;  // id_ of the map it belongs to; 0: empty
    Key key;
    Handle handle{};
  };
  static MemoEntry& memoSlot(const Values& values) {
    static thread_local std::array<MemoEntry, kMemoSlots> memo;
    std::uintptr_t h = 0;
    for (std::string_view v : values) {
      h = (h ^ reinterpret_cast<std::uintptr_t>(v.data()) ^ v.size()) * 0x9e3779b97f4a7c15ULL;
    }
    return memo[(h >> 32) % kMemoSlots];
  }
  static std::uint64_t nextId() {
    static std::atomic<std::uint64_t> next{1};
    return next.fetch_add(1, std::memory_order_relaxed);
  }

  struct Hasher {
    using is_transparent = void;
    std::size_t operator()(const Values& values) const {
      std::size_t h = 0x9e3779b97f4a7c15ULL;
      for (std::string_view v : values) {
        h ^= std::hash<std::string_view>{}(v) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
      }
      return h;
    }
    std::size_t operator()(const Key& key) const { return (*this)(toValues(key)); }
  };
  struct Equal {
    using is_transparent = void;
    template <typename A, typename B>
    bool operator()(const A& a, const B& b) const {
      for (std::size_t i = 0; i < N; ++i) {
        if (std::string_view(a[i]) != std::string_view(b[i])) return false;
      }
      return true;
    }
  };
  struct alignas(64) Shard {
    std::mutex mu;  // held for one lookup; the registry call only on first use
    absl::flat_hash_map<Key, Handle, Hasher, Equal> map;
  };

  static Values toValues(const Key& key) {
    Values values;
    for (std::size_t i = 0; i < N; ++i) values[i] = key[i];
    return values;
  }
  static Key toKey(const Values& values) {
    Key key;
    for (std::size_t i = 0; i < N; ++i) key[i] = std::string(values[i]);
    return key;
  }

  template <typename Make>
  Handle overflow(Make&& make) {
    std::call_once(overflow_once_, [&] {
      Values other;
      other.fill("other");
      overflow_ = make(other);
    });
    return overflow_;
  }

  // Unique per map for the life of the process (not its address, which a
  // later map may reuse): memo entries of a destroyed map never match.
  const std::uint64_t id_ = nextId();
  const std::size_t max_sets_;
  std::atomic<std::size_t> size_{0};
  std::array<Shard, kShards> shards_;
  std::once_flag overflow_once_;
  Handle overflow_{};
};

}  // namespace llmgate::proxy::telemetry
