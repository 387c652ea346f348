#include "proxy/routing/router.h"

#include <algorithm>

#include "common/text/str_cat.h"
#include "proxy/routing/override_applier.h"

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
                                          std::string_view task_hint) {
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
    for (std::size_t i = 0; i < route->rules.size(); ++i) {
      const auto& tasks = route->rules[i].when.task;
      if (!task_hint.empty() && std::find(tasks.begin(), tasks.end(), task_hint) != tasks.end()) {
        chosen = &route->rules[i].targets;
        decision.label = strCat(route->name, "; rule=", i + 1, "; task=", task_hint);
        decision.rule = std::to_string(i + 1);
        break;
      }
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
