// A quick, conservative prompt-size estimate used before sending (context
// window checks, max_tokens clamping). The calibrated, script-aware estimator
// comes with the routing issue; this one assumes ~3 characters per token
// (over-estimates English, roughly right for code and CJK) plus 4 tokens of
// overhead per message.
#pragma once

#include <cstdint>

#include "boost/json/object.hpp"

namespace llmgate::proxy::routing {

std::uint64_t estimatePromptTokens(const boost::json::object& chat_body);

}  // namespace llmgate::proxy::routing
