// Evaluates one rule's `when` against a request's facts (all conditions AND,
// lists OR), and picks the arm of a weighted split.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/config/schema.h"
#include "proxy/routing/request_facts.h"

namespace llmgate::proxy::routing {

// True when every condition `when` sets holds for `facts`. When it matches,
// `matched` (if given) receives what matched, for x-llmgate-route, e.g.
// "task=code; prompt_tokens=1200>=1000; tools; tenant=acme".
bool ruleMatches(const config::RouteMatch& when, const RequestFacts& facts,
                 std::string* matched = nullptr);

// The index of the split arm `draw` falls in (weights are proportions of
// their sum; arms of weight 0 are never chosen). `arms` must have a positive
// total weight.
std::size_t pickSplitArm(const std::vector<config::RouteSplit>& arms, std::uint64_t draw);

}  // namespace llmgate::proxy::routing
