// The response cache as the request path sees it: what is stored
// (CachedResponse), and the Cache interface that looks answers up and stores
// them across the tiers (L1 in-process, L2 Redis). docs/CACHE.md.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "boost/asio/awaitable.hpp"
#include "boost/json/object.hpp"
#include "proxy/api/answer_summary.h"
#include "proxy/cache/cache_key.h"

namespace llmgate::proxy::cache {

// One complete, successful, non-streamed answer. Immutable once built; shared
// between the L1 cache and every request it is served to.
struct CachedResponse {
  std::string body;  // the chat.completion JSON exactly as it is served
  std::string model;
  std::string provider;
  std::uint64_t prompt_tokens = 0;
  std::uint64_t cached_prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  std::int64_t created = 0;  // unix seconds when the upstream answered

  // Heap bytes this entry holds (for the L1 byte budget).
  std::size_t byteSize() const {
    return sizeof(CachedResponse) + body.capacity() + model.capacity() + provider.capacity();
  }
};

// The storage contract (R41): an answer may be stored only if it is a
// chat.completion whose every choice finished with "stop" or "tool_calls"
// (or the legacy "function_call"). "length", "content_filter", a missing
// finish_reason, errors and anything streamed-and-cut are never stored; the
// caller must also only offer HTTP 2xx answers it received completely.
// The request path checks it on api::AnswerSummary::storable() (one SAX pass,
// no DOM); this DOM form is the same rule for an answer already parsed.
bool isStorableCompletion(const boost::json::object& completion);

// Summarizes `body` (a chat.completion as received), checks the storage
// contract and takes usage and `created` from it. nullopt when it must not be
// stored.
std::optional<CachedResponse> makeCachedResponse(std::string body, std::string_view model,
                                                 std::string_view provider);
// The same from an answer the caller has already summarized (`summary` is
// summarizeAnswer(body)) and found storable(): no second pass.
CachedResponse cachedResponseOf(std::string body, const api::AnswerSummary& summary,
                                std::string_view model, std::string_view provider);

enum class CacheTier { kL1, kL2 };

struct CacheHit {
  std::shared_ptr<const CachedResponse> response;
  CacheTier tier = CacheTier::kL1;
};

// Both tiers behind one interface. An implementation never throws and never
// fails a request: an unavailable tier is a miss (lookup) or a no-op (store).
class Cache {
 public:
  virtual ~Cache() = default;
  // L1, then L2 (an L2 hit is promoted to L1). nullopt on a miss.
  virtual boost::asio::awaitable<std::optional<CacheHit>> lookup(const CacheKey& key) = 0;
  // Stores in L1 and, without making the caller wait longer than the L2
  // timeout, in L2. `response` must satisfy the storage contract above.
  virtual boost::asio::awaitable<void> store(const CacheKey& key,
                                             std::shared_ptr<const CachedResponse> response) = 0;
  // store() in two halves: L1 at once (before the answer is sent, so a
  // repeat right after it is already a hit), then L2 (after it is sent).
  virtual void storeLocal(const CacheKey& key, std::shared_ptr<const CachedResponse> response) = 0;
  virtual boost::asio::awaitable<void> storeShared(
      const CacheKey& key, std::shared_ptr<const CachedResponse> response) = 0;
  // For the gauges: bytes resident in L1, and whether L2 is reachable now.
  virtual std::uint64_t l1ResidentBytes() const = 0;
  virtual bool l2Available() const = 0;
};

using CachePtr = std::unique_ptr<Cache>;

}  // namespace llmgate::proxy::cache
