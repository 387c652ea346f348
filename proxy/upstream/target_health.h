// Health of every target (a model on its provider) and provider, shared by
// all workers. Built once per config snapshot as an immutable name -> state
// map whose states are carried over from the previous snapshot, so lookups
// take no lock and a reload keeps ejections, cool-downs and budgets.
//
//  - Outlier ejection (RELIABILITY R19, R22): `eject_after` consecutive
//    failures eject a target for eject_for * 2^(n-1) (n = its ejection count,
//    capped at 16x); a success resets the failure streak.
//  - Provider cool-down (R7, proactive pacing): a rate-limit hint longer than
//    retry.max_delay, or x-ratelimit-remaining = 0, skips the provider until
//    the hint expires. Quota exhaustion (R9) disables it for kQuotaDisable.
//  - The provider's retry budget (Envoy's) lives here too.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "common/config/schema.h"
#include "common/time/clock.h"
#include "proxy/retry/retry_budget.h"

namespace llmgate::proxy::upstream {

class TargetState {
 public:
  bool ejected(time::SteadyTime now) const;
  time::SteadyTime ejectedUntil() const;
  // Returns true when this failure ejected the target.
  bool recordFailure(const config::FailoverConfig& failover, time::SteadyTime now);
  void recordSuccess();
  int ejections() const { return ejections_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> ejected_until_ns_{0};
  std::atomic<int> consecutive_failures_{0};
  std::atomic<int> ejections_{0};
};

enum class SkipReason { kNone, kCooldown, kQuota };

class ProviderState {
 public:
  static constexpr auto kQuotaDisable = std::chrono::minutes(15);

  SkipReason skipped(time::SteadyTime now) const;
  time::SteadyTime skippedUntil() const;
  void coolDown(time::SteadyTime until);
  void disableForQuota(time::SteadyTime now);
  retry::RetryBudget& budget() { return budget_; }

 private:
  std::atomic<std::int64_t> skip_until_ns_{0};
  std::atomic<int> reason_{0};
  retry::RetryBudget budget_;
};

class HealthRegistry {
 public:
  // States for every model and provider of `config`, reusing `previous`'s
  // state objects for names that still exist.
  HealthRegistry(const config::Config& config, const HealthRegistry* previous);

  TargetState& target(std::string_view model);
  ProviderState& provider(std::string_view name);

 private:
  std::map<std::string, std::shared_ptr<TargetState>, std::less<>> targets_;
  std::map<std::string, std::shared_ptr<ProviderState>, std::less<>> providers_;
  std::shared_ptr<TargetState> spare_target_ = std::make_shared<TargetState>();
  std::shared_ptr<ProviderState> spare_provider_ = std::make_shared<ProviderState>();
};

}  // namespace llmgate::proxy::upstream
