// Token usage as providers report it, and what it cost.
#pragma once

#include <cstdint>
#include <optional>

#include "boost/json/object.hpp"
#include "common/config/schema.h"

namespace llmgate::proxy::api {

struct Usage {
  std::uint64_t prompt_tokens = 0;
  std::uint64_t cached_prompt_tokens = 0;  // part of prompt_tokens served from the provider's cache
  std::uint64_t completion_tokens = 0;
};

// The "usage" object of a chat.completion or chat.completion.chunk: OpenAI's
// prompt_tokens_details.cached_tokens or DeepSeek's prompt_cache_hit_tokens.
// nullopt when absent or null.
std::optional<Usage> usageOf(const boost::json::object& response);

// USD for `usage` at the model's per-million prices (cached prompt tokens at
// cached_input).
double costUsd(const Usage& usage, const config::Price& price);

}  // namespace llmgate::proxy::api
