#include "proxy/routing/router.h"

#include <algorithm>

#include "common/text/str_cat.h"
#include "proxy/routing/override_applier.h"
#include "proxy/routing/rule_matcher.h"

namespace llmgate::proxy::routing {
namespace {

void addTarget(const config::Config& config, std::string_view model_name,
               std::vector<Target>& targets) {
  const config::ModelConfig* model = config.findModel(model_name);
  if (model == nullptr) return;  // the loader refuses unknown names; be safe anyway
  for (const Target& t : targets) {
    if (t.model == model) return;
  }
  targets.push_back(Target{model, config.findProvider(model->provider)});
}

}  // namespace

std::optional<RouteDecision> resolveRoute(const config::Config& config, std::string_view requested,
                                          const RequestFacts& facts) {
  RouteDecision decision;
  if (const config::ModelConfig* model = config.findModel(requested)) {
    addTarget(config, model->name, decision.targets);
    for (const std::string& fallback : model->fallbacks)
      addTarget(config, fallback, decision.targets);
    decision.label = model->name;
    decision.name = model->name;
    decision.rule = "model";
  } else if (const config::RouteConfig* route = config.findRoute(requested)) {
    const std::vector<std::string>* chosen = &route->default_targets;
    decision.label = strCat(route->name, "; default");
    decision.name = route->name;
    decision.rule = "default";
    std::string matched;
    for (std::size_t i = 0; i < route->rules.size(); ++i) {
      const config::RouteRule& rule = route->rules[i];
      if (!ruleMatches(rule.when, facts, &matched)) continue;
      decision.label = strCat(route->name, "; rule=", i + 1, "; ", matched);
      decision.rule = std::to_string(i + 1);
      if (rule.split.empty()) {
        chosen = &rule.targets;
      } else {
        const std::size_t arm = pickSplitArm(rule.split, facts.split_draw);
        chosen = &rule.split[arm].targets;
        strAppend(decision.label, "; split=", arm + 1, "/", rule.split.size());
        strAppend(decision.rule, ".", arm + 1);  // "3.2": rule 3, arm 2
      }
      break;
    }
    for (const std::string& name : *chosen) addTarget(config, name, decision.targets);
  } else {
    return std::nullopt;
  }
  decision.targets.erase(std::remove_if(decision.targets.begin(), decision.targets.end(),
                                        [](const Target& t) { return t.provider == nullptr; }),
                         decision.targets.end());
  applyOverrides(config, requested, decision);
  if (decision.targets.empty()) return std::nullopt;
  return decision;
}

}  // namespace llmgate::proxy::routing
