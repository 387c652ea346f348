// Turns what the client asked for ("model": a model name or a route alias)
// and the request's facts (task class, prompt size, tools, response_format,
// tenant, last user message, budget state, split draw) into an ordered list
// of targets: a model with its fallbacks, or the first matching rule of an
// alias (docs/ROUTING.md, "Rule language"), else its default.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/schema.h"
#include "proxy/routing/request_facts.h"

namespace llmgate::proxy::routing {

struct Target {
  const config::ModelConfig* model = nullptr;
  const config::ProviderConfig* provider = nullptr;
};

struct RouteDecision {
  std::vector<Target> targets;  // in order of preference, never empty
  // x-llmgate-route: "gpt-4o-mini", "auto; default" or what matched, e.g.
  // "auto; rule=2; task=code; tools" or "auto; rule=3; tenant=acme; split=2/2".
  std::string label;
  std::string_view name;  // the configured model or route name asked for (lives in config)
  // For metrics: "model", "default", the rule's number ("2") or, for a
  // split, the rule's number and the arm's ("3.2").
  std::string rule;
};

// nullopt when `requested` is neither a model nor a route alias.
std::optional<RouteDecision> resolveRoute(const config::Config& config, std::string_view requested,
                                          const RequestFacts& facts);

}  // namespace llmgate::proxy::routing
