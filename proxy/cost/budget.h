// Per-tenant spending limits in USD per UTC day and per minute
// (`clients[].budget.usd_per_day`, `usd_per_minute`).
//
// Counters are local to this process and lock-free: each tenant has one
// 64-bit atomic per window holding the window number and the nano-USD spent
// in it, so a charge and the rollover are a single compare-and-swap and no
// charge is lost at the boundary. The tenant set is fixed at construction (a
// config reload builds a new tracker). Sharing budgets across sidecars
// (Redis) is a layer above this one (budget_gate.h), which feeds the fleet's
// totals back here with setSpent().
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

enum class BudgetWindow { kDay, kMinute };
const char* toString(BudgetWindow window);  // "day" | "minute"

struct BudgetStatus {
  double limit_usd = 0;
  double spent_usd = 0;      // in the current window
  double remaining_usd = 0;  // never negative
  time::SystemTime resets_at;
};

class BudgetTracker {
 public:
  // Tenants of `clients` with a `budget.usd_per_day` or `usd_per_minute`;
  // others are unlimited. `clock` must outlive the tracker.
  BudgetTracker(const std::vector<config::ClientConfig>& clients, const time::Clock& clock);
  ~BudgetTracker();
  BudgetTracker(const BudgetTracker&) = delete;
  BudgetTracker& operator=(const BudgetTracker&) = delete;

  // After a config reload: takes over `previous`'s spend in the current
  // windows for every tenant both trackers know (limits are this tracker's).
  void carryOver(const BudgetTracker& previous);

  // Whether `tenant` has any limit.
  bool budgeted(std::string_view tenant) const;
  const config::Budget* budgetOf(std::string_view tenant) const;

  // Whether `tenant` may spend `estimated_usd` more: spent + estimate must
  // not exceed the limit of either window. Unlimited tenants are always
  // allowed. Does not reserve anything.
  bool allow(std::string_view tenant, double estimated_usd) const;
  // The first window `estimated_usd` would overrun, or nullopt.
  std::optional<BudgetWindow> exceeded(std::string_view tenant, double estimated_usd) const;

  // Adds `estimated_usd` to both windows if neither overruns (atomically per
  // window; when the minute overruns after the day took it, the day is given
  // back). nullopt on success, else the window that refused.
  std::optional<BudgetWindow> tryReserve(std::string_view tenant, double estimated_usd);

  // Adds `actual_usd` (>= 0; negative and NaN are ignored) to both windows.
  // Charges are never refused: an answer already served is paid for.
  void charge(std::string_view tenant, double actual_usd);
  // Gives back `usd` (>= 0) in the current windows (an unused reservation).
  void refund(std::string_view tenant, double usd);

  // Sets the current windows' spend to the fleet totals read from the shared
  // counters, so low() and the metrics see the whole fleet.
  void setSpent(std::string_view tenant, double day_spent_usd, double minute_spent_usd);

  // `when: {budget: low}`: some window's spend is at least low_at_percent of its limit.
  bool low(std::string_view tenant) const;

  // nullopt when the tenant has no limit for `window`.
  std::optional<BudgetStatus> status(std::string_view tenant,
                                     BudgetWindow window = BudgetWindow::kDay) const;
  std::optional<double> remaining(std::string_view tenant,
                                  BudgetWindow window = BudgetWindow::kDay) const;

  // Seconds until `window` resets (Retry-After for budget_exceeded), >= 1.
  std::uint64_t secondsUntilReset(BudgetWindow window = BudgetWindow::kDay) const;

  // The current window's number (UTC days or minutes since the epoch), for
  // the shared counters' keys.
  std::int64_t windowNumber(BudgetWindow window) const;

 private:
  struct Counter;
  struct Tenant;
  const Tenant* find(std::string_view tenant) const;
  Tenant* find(std::string_view tenant);

  const time::Clock& clock_;
  std::unique_ptr<Tenant[]> tenants_;
  std::unordered_map<std::string, std::size_t> index_;  // immutable after construction
};

}  // namespace llmgate::proxy::cost
