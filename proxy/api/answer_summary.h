// What llmgate reads from a provider's non-streamed answer (a chat.completion),
// taken in one SAX pass over its text instead of building a DOM of it: the
// answer's bytes are passed on as they are, so only these few facts are needed
// (usage and cost, truncation, the cache's storage contract, `created`).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "boost/system/error_code.hpp"
#include "proxy/api/usage.h"

namespace llmgate::proxy::api {

struct AnswerSummary {
  bool is_object = false;      // the top level is a JSON object
  bool is_completion = false;  // "object": "chat.completion"
  bool has_error = false;      // a top-level "error" member (any value)
  bool choices_is_array = false;
  std::size_t choice_count = 0;
  // Every choice is an object whose "finish_reason" is "stop", "tool_calls"
  // or "function_call" and whose "message" is an object (true for none).
  bool all_choices_complete = true;
  std::optional<Usage> usage;  // api::usageOf's rules on the top-level "usage"
  std::int64_t created = 0;    // top-level integer "created", else 0

  // choices[0].finish_reason when it is a string, else empty (what a DOM
  // lookup gives). Kept up to kMaxFinishReason bytes: longer values are cut,
  // which can neither make them equal nor unequal to a known reason.
  std::string_view finishReason() const {
    return std::string_view(finish_reason_.data(), finish_reason_size_);
  }
  void setFinishReason(std::string_view reason);

  // The cache's storage contract (cache::isStorableCompletion, R41).
  bool storable() const {
    return is_completion && !has_error && choices_is_array && choice_count > 0 &&
           all_choices_complete;
  }

  static constexpr std::size_t kMaxFinishReason = 48;

 private:
  std::array<char, kMaxFinishReason> finish_reason_{};
  std::size_t finish_reason_size_ = 0;
};

// The summary of `text`, or the parse error: the same error codes as
// boost::json::parse with default options (max depth 32, no comments,
// trailing data refused). A top level that is not an object parses fine with
// is_object false. Duplicate keys: the last one counts, as in a Boost.JSON
// DOM. Allocates nothing.
struct AnswerSummaryResult {
  AnswerSummary summary;
  boost::system::error_code error;
};
AnswerSummaryResult summarizeAnswer(std::string_view text);

}  // namespace llmgate::proxy::api
