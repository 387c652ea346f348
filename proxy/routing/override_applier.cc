#include "proxy/routing/override_applier.h"

#include <algorithm>
#include <random>

#include "common/text/str_cat.h"
#include "common/time/clock.h"

namespace llmgate::proxy::routing {
namespace {

using Action = config::RouteOverride::Action;

bool active(const config::RouteOverride& o, std::chrono::system_clock::time_point now) {
  return !o.expires_at || *o.expires_at > now;
}

std::optional<Target> targetFor(const config::Config& config, std::string_view model_name) {
  const config::ModelConfig* model = config.findModel(model_name);
  if (model == nullptr) return std::nullopt;
  const config::ProviderConfig* provider = config.findProvider(model->provider);
  if (provider == nullptr) return std::nullopt;
  return Target{model, provider};
}

void noteApplied(RouteDecision& decision, const config::RouteOverride& o) {
  decision.label += strCat("; override=", o.id);
}

}  // namespace

void applyOverrides(const config::Config& config, std::string_view requested,
                    RouteDecision& decision, std::chrono::system_clock::time_point now,
                    const UniformDraw& draw) {
  if (config.overrides.empty()) return;
  for (const config::RouteOverride& o : config.overrides) {
    if (o.action != Action::kPin || o.subject != requested || !active(o, now)) continue;
    if (std::optional<Target> to = targetFor(config, o.to)) {
      decision.targets = {*to};
      noteApplied(decision, o);
      return;
    }
  }
  // Shifts: one pass over the resolved list; a shifted-to model is not shifted again.
  const std::vector<Target> resolved = decision.targets;
  std::vector<Target> shifted;
  shifted.reserve(resolved.size());
  for (const Target& target : resolved) {
    Target chosen = target;
    for (const config::RouteOverride& o : config.overrides) {
      if (o.action != Action::kShift || o.subject != target.model->name || !active(o, now)) {
        continue;
      }
      if (draw() < o.weight) {
        if (std::optional<Target> to = targetFor(config, o.to)) {
          chosen = *to;
          noteApplied(decision, o);
        }
      }
      break;  // the first active shift of a subject decides
    }
    const bool duplicate = std::any_of(shifted.begin(), shifted.end(), [&](const Target& t) {
      return t.model->name == chosen.model->name;
    });
    if (!duplicate) shifted.push_back(chosen);
  }
  decision.targets = std::move(shifted);
  // Drains.
  std::vector<Target> kept;
  std::vector<const config::RouteOverride*> drains;
  for (const Target& target : decision.targets) {
    const auto drain =
        std::find_if(config.overrides.begin(), config.overrides.end(), [&](const auto& o) {
          return o.action == Action::kDrain && o.subject == target.model->name && active(o, now);
        });
    if (drain == config.overrides.end()) {
      kept.push_back(target);
    } else {
      drains.push_back(&*drain);
    }
  }
  if (!kept.empty() && !drains.empty()) {
    decision.targets = std::move(kept);
    for (const config::RouteOverride* o : drains) noteApplied(decision, *o);
  }
}

void applyOverrides(const config::Config& config, std::string_view requested,
                    RouteDecision& decision) {
  if (config.overrides.empty()) return;
  thread_local std::mt19937_64 engine{std::random_device{}()};
  const UniformDraw draw = [] { return std::uniform_real_distribution<double>(0.0, 1.0)(engine); };
  applyOverrides(config, requested, decision, time::systemNow(), draw);
}

}  // namespace llmgate::proxy::routing
