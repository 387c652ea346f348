// Per-tenant spending limits in USD per UTC day (`clients[].budget.usd_per_day`).
//
// Counters are local to this process and lock-free: each tenant has one
// 64-bit atomic holding the UTC day number and the nano-USD spent that day, so
// a charge and the day rollover are a single compare-and-swap and no charge
// is lost across midnight. The tenant set is fixed at construction (a config
// reload builds a new tracker). Sharing budgets across sidecars (Redis) is a
// layer above this one.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/config/schema.h"
#include "common/time/clock.h"

namespace llmgate::proxy::cost {

struct BudgetStatus {
  double limit_usd = 0;
  double spent_usd = 0;      // today (UTC)
  double remaining_usd = 0;  // never negative
  time::SystemTime resets_at;
};

class BudgetTracker {
 public:
  // Tenants of `clients` with a `budget.usd_per_day`; others are unlimited.
  // `clock` must outlive the tracker.
  BudgetTracker(const std::vector<config::ClientConfig>& clients, const time::Clock& clock);
  ~BudgetTracker();
  BudgetTracker(const BudgetTracker&) = delete;
  BudgetTracker& operator=(const BudgetTracker&) = delete;

  // Whether `tenant` may spend `estimated_usd` more today: spent + estimate
  // must not exceed the limit. Unlimited tenants are always allowed. Does not
  // reserve anything: charge() the actual cost when the answer is in.
  bool allow(std::string_view tenant, double estimated_usd) const;

  // Adds `actual_usd` (>= 0; negative and NaN are ignored) to today's spend.
  // Charges are never refused: an answer already served is paid for.
  void charge(std::string_view tenant, double actual_usd);

  // nullopt for an unlimited tenant.
  std::optional<BudgetStatus> status(std::string_view tenant) const;
  std::optional<double> remaining(std::string_view tenant) const;

  // Seconds until the next UTC midnight (Retry-After for budget_exceeded), >= 1.
  std::uint64_t secondsUntilReset() const;

 private:
  struct Counter;
  Counter* find(std::string_view tenant) const;
  std::uint32_t today() const;

  const time::Clock& clock_;
  std::unique_ptr<Counter[]> counters_;
  std::unordered_map<std::string, std::size_t> index_;  // immutable after construction
};

}  // namespace llmgate::proxy::cost
