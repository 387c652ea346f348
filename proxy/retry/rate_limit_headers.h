// What a provider's response headers say about when to come back
// (../shared/PROVIDERS.md §2.5, §2.6, §3.5; RELIABILITY R6-R8):
//   retry-after-ms: 1500            (float milliseconds; wins)
//   retry-after: 2 | 2.5 | <HTTP-date>
//   x-ratelimit-reset-requests / -tokens: 6m0s | 1.5s | 12ms  (Go durations)
//   anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-reset: RFC 3339
//   x-ratelimit-remaining-requests / -tokens: 0  -> pause until the matching reset
// Garbage, negative, past, absurd (> 1 day) or non-ASCII values are ignored,
// never a crash or a negative wait.
#pragma once

#include <optional>
#include <string_view>

#include "boost/beast/http/fields.hpp"
#include "common/config/schema.h"
#include "common/time/clock.h"

namespace llmgate::proxy::retry {

struct RateLimitHints {
  // How long the provider asks us to wait before retrying (429/503).
  std::optional<config::Duration> retry_after;
  // On any response: the provider says its quota is at 0 until this long from
  // now; new requests should skip it meanwhile (proactive pacing).
  std::optional<config::Duration> exhausted_for;
};

RateLimitHints parseRateLimitHeaders(const boost::beast::http::fields& headers,
                                     time::SystemTime now);

// Exposed for tests.
std::optional<config::Duration> parseDeltaSeconds(std::string_view text);
std::optional<config::Duration> parseGoDuration(std::string_view text);
std::optional<time::SystemTime> parseHttpDate(std::string_view text);
std::optional<time::SystemTime> parseRfc3339(std::string_view text);

}  // namespace llmgate::proxy::retry
