#include "proxy/upstream/target_health.h"

#include <algorithm>

namespace llmgate::proxy::upstream {
namespace {

std::int64_t toNs(time::SteadyTime t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

time::SteadyTime fromNs(std::int64_t ns) {
  return time::SteadyTime(
      std::chrono::duration_cast<time::SteadyTime::duration>(std::chrono::nanoseconds(ns)));
}

constexpr int kMaxEjectionMultiplier = 16;

}  // namespace

bool TargetState::ejected(time::SteadyTime now) const {
  return ejected_until_ns_.load(std::memory_order_relaxed) > toNs(now);
}

time::SteadyTime TargetState::ejectedUntil() const {
  return fromNs(ejected_until_ns_.load(std::memory_order_relaxed));
}

bool TargetState::recordFailure(const config::FailoverConfig& failover, time::SteadyTime now) {
  const int failures = consecutive_failures_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (failover.eject_after <= 0 || failures < failover.eject_after || ejected(now)) return false;
  consecutive_failures_.store(0, std::memory_order_relaxed);
  const int n = ejections_.fetch_add(1, std::memory_order_relaxed) + 1;
  const int multiplier = std::min(kMaxEjectionMultiplier, 1 << std::min(n - 1, 4));
  ejected_until_ns_.store(toNs(now + failover.eject_for * multiplier), std::memory_order_relaxed);
  return true;
}

void TargetState::recordSuccess() { consecutive_failures_.store(0, std::memory_order_relaxed); }

SkipReason ProviderState::skipped(time::SteadyTime now) const {
  if (skip_until_ns_.load(std::memory_order_relaxed) <= toNs(now)) return SkipReason::kNone;
  return static_cast<SkipReason>(reason_.load(std::memory_order_relaxed));
}

time::SteadyTime ProviderState::skippedUntil() const {
  return fromNs(skip_until_ns_.load(std::memory_order_relaxed));
}

void ProviderState::coolDown(time::SteadyTime until) {
  const std::int64_t ns = toNs(until);
  std::int64_t current = skip_until_ns_.load(std::memory_order_relaxed);
  while (current < ns && !skip_until_ns_.compare_exchange_weak(current, ns)) {
  }
  if (current < ns) reason_.store(static_cast<int>(SkipReason::kCooldown));
}

void ProviderState::disableForQuota(time::SteadyTime now) {
  skip_until_ns_.store(toNs(now + kQuotaDisable), std::memory_order_relaxed);
  reason_.store(static_cast<int>(SkipReason::kQuota), std::memory_order_relaxed);
}

namespace {

// The state for `name`: the previous snapshot's object if it had one, else new.
template <typename State, typename Map>
std::shared_ptr<State> carriedOver(const Map* previous, const std::string& name) {
  if (previous != nullptr) {
    if (auto it = previous->find(name); it != previous->end()) return it->second;
  }
  return std::make_shared<State>();
}

}  // namespace

HealthRegistry::HealthRegistry(const config::Config& config, const HealthRegistry* previous) {
  for (const auto& model : config.models) {
    targets_[model.name] =
        carriedOver<TargetState>(previous ? &previous->targets_ : nullptr, model.name);
  }
  for (const auto& provider : config.providers) {
    providers_[provider.name] =
        carriedOver<ProviderState>(previous ? &previous->providers_ : nullptr, provider.name);
  }
}

TargetState& HealthRegistry::target(std::string_view model) {
  auto it = targets_.find(model);
  return it == targets_.end() ? *spare_target_ : *it->second;
}

ProviderState& HealthRegistry::provider(std::string_view name) {
  auto it = providers_.find(name);
  return it == providers_.end() ? *spare_provider_ : *it->second;
}

}  // namespace llmgate::proxy::upstream
