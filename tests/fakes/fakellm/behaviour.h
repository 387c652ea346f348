// What fakellm does with one request: a set of optional knobs, layered from the
// process defaults up to a per-request header (see docs/FAKELLM.md).
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace llmgate::fakellm {

enum class ResetMode { kBeforeHeaders, kAfterHeaders, kMidBody };
enum class Malformed { kHtml, kTruncatedJson, kWrongContentType };

struct Behaviour {
  std::optional<int> status;
  std::optional<std::string> error_body;     // raw body replacing the error envelope
  std::optional<std::string> error_type;     // e.g. "insufficient_quota"
  std::optional<std::string> error_message;  // replaces the envelope's message
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::optional<std::string> retry_after;                    // "2", "1.5", "http-date+N"
  std::optional<int64_t> latency_ms;
  std::optional<int64_t> ttft_ms;
  std::optional<double> tokens_per_sec;
  std::optional<int64_t> keepalives;
  std::optional<int64_t> keepalive_interval_ms;
  std::optional<bool> keepalive_forever;
  std::optional<std::string> finish_reason;
  std::optional<int64_t> answer_words;
  std::optional<int64_t> cut_after;
  std::optional<ResetMode> reset;
  std::optional<bool> hang;
  std::optional<bool> empty_body;
  std::optional<Malformed> malformed;
  std::optional<int64_t> stream_error;
  std::optional<int64_t> context_window;    // prompt + max_tokens above it: the 400
  std::optional<int64_t> cache_hit_tokens;  // DeepSeek prompt_cache_hit_tokens
  std::optional<int64_t> reasoning_words;   // reasoning_content / thinking block
  std::optional<std::string> tool_call;     // tool to call; "" = the request's first tool

  // Every field set in `over` replaces ours; headers merge by name.
  void overlay(const Behaviour& over);

  // Sets (or replaces) one extra response header.
  void setHeader(std::string_view name, std::string_view value);
};

// Parses a behaviour object. Unknown fields and wrong types are errors, so a
// typo in a test fails loudly instead of silently doing nothing.
absl::StatusOr<Behaviour> parseBehaviour(const boost::json::value& json);
absl::StatusOr<Behaviour> parseBehaviourText(std::string_view json_text);

// The behaviour of a magic model name (`fake-429`, `fake-slow`, ...), if any.
std::optional<Behaviour> magicModelBehaviour(std::string_view model);

// The `retry-after` header value for a behaviour's `retry_after`: verbatim,
// except "http-date+N" (an IMF-fixdate N seconds after `now_unix`) and
// "http-date" (now).
std::string retryAfterValue(std::string_view spec, int64_t now_unix);

// The JSON object of the first `FAKELLM{...}` directive in `text`, braces
// included; nullopt when there is none. An unbalanced object runs to the end.
std::optional<std::string_view> findDirective(std::string_view text);

}  // namespace llmgate::fakellm
