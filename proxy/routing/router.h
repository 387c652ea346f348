// Turns what the client asked for ("model": a model name or a route alias,
// plus the x-llmgate-task hint) into an ordered list of targets. The full
// rule language (context size, budget, tools, regex, splits) arrives with the
// routing issue; this resolves names, fallbacks, task rules and defaults.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/config/schema.h"

namespace llmgate::proxy::routing {

struct Target {
  const config::ModelConfig* model = nullptr;
  const config::ProviderConfig* provider = nullptr;
};

struct RouteDecision {
  std::vector<Target> targets;  // in order of preference, never empty
  std::string label;            // x-llmgate-route: "gpt-4o-mini" or "auto; rule=1; task=code"
  std::string_view name;        // the configured model or route name asked for (lives in config)
  std::string rule;             // for metrics: "model", "default" or the rule's number (1..N)
};

// nullopt when `requested` is neither a model nor a route alias.
std::optional<RouteDecision> resolveRoute(const config::Config& config, std::string_view requested,
                                          std::string_view task_hint);

}  // namespace llmgate::proxy::routing
