// Whether a request may be answered from the cache and whether its answer may
// be stored (docs/CACHE.md, "Eligibility").
//
// Rule for cache.mode "deterministic": a request is deterministic when
//   (temperature is present and numerically 0)
//   OR (temperature is absent AND seed is present as an integer),
// AND, if "n" is present, n == 1. Anything else (temperature > 0 with or
// without a seed, temperature absent without seed, n > 1) is not cached.
// "always" caches every chat request; "off" caches nothing, whatever the header.
//
// The x-llmgate-cache request header then narrows it:
//   default         the mode decides
//   no-store        look up, never store
//   no-cache        never look up, store
//   only-if-cached  look up (even a non-deterministic request, unless mode is off),
//                   never call upstream: a miss is the caller's 504 cache_miss
#pragma once

#include <optional>
#include <string_view>

#include "boost/json/object.hpp"
#include "proxy/api/api_error.h"
#include "proxy/api/chat_request.h"

namespace llmgate::proxy::cache {

enum class CacheMode { kDeterministic, kAlways, kOff };

enum class CacheDirective { kDefault, kNoStore, kNoCache, kOnlyIfCached };

inline constexpr std::string_view kCacheHeader = "x-llmgate-cache";

// "deterministic" | "always" | "off"; nullopt otherwise (the config loader validates).
std::optional<CacheMode> parseCacheMode(std::string_view mode);

// The x-llmgate-cache request header value, case-insensitive, surrounding
// blanks ignored. `header` is nullopt when the request has no such header.
// An unknown value is ApiError 400 invalid_request_error, param "x-llmgate-cache".
api::ApiResult<CacheDirective> parseCacheDirective(std::optional<std::string_view> header);

struct CacheDecision {
  bool lookup = false;          // try L1/L2 before calling upstream
  bool store = false;           // store a complete, successful answer
  bool only_if_cached = false;  // on a miss answer 504 cache_miss, never call upstream

  friend bool operator==(const CacheDecision&, const CacheDecision&) = default;
};

// See the rule above: from the members the validation pass read, or from a DOM.
bool isDeterministic(const api::ChatRequest& request);
bool isDeterministic(const boost::json::object& chat_body);

CacheDecision decideCache(CacheMode mode, CacheDirective directive,
                          const api::ChatRequest& request);
CacheDecision decideCache(CacheMode mode, CacheDirective directive,
                          const boost::json::object& chat_body);

}  // namespace llmgate::proxy::cache
