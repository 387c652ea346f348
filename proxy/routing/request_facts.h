// What a route rule can look at, gathered once per request before routing
// (docs/ROUTING.md, "Rule language"). Plain data: the router never reads the
// request, the budget tracker or the clock itself, so rules are unit-testable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "boost/json/object.hpp"

namespace llmgate::proxy::routing {

struct RequestFacts {
  std::string_view task;            // the task class ("code"...), "" when not classified
  std::uint64_t prompt_tokens = 0;  // estimated, before any model's calibration
  bool has_tools = false;           // a non-empty `tools` array
  bool has_response_format = false;
  std::string_view response_format_type;  // `response_format.type`, "" when absent
  std::string_view tenant;
  std::string last_user_message;  // text of the last `user` message (parts joined by '\n')
  bool budget_low = false;        // the tenant spent at least low_at_percent of a window
  // Picks the arm of a weighted split: uniform over 64 bits. Deterministic
  // per request id in the proxy (splitDraw); tests set it directly.
  std::uint64_t split_draw = 0;
};

// Fills has_tools, has_response_format, response_format_type (a view into
// `body`, which must outlive `facts`) and last_user_message from a chat body.
void readBodyFacts(const boost::json::object& body, RequestFacts& facts);

// A well-mixed 64-bit hash of a request id: the same id always takes the same
// arm of a split, and distinct ids spread by the weights.
std::uint64_t splitDraw(std::string_view request_id);

}  // namespace llmgate::proxy::routing
