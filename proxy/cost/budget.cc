#include "proxy/cost/budget.h"

#include <chrono>
#include <cmath>

namespace llmgate::proxy::cost {
namespace {

// Packed state: high 16 bits the UTC day number modulo 2^16 (only equality
// matters), low 48 bits nano-USD spent that day (saturating at ~281,000 USD).
constexpr int kSpentBits = 48;
constexpr std::uint64_t kSpentMask = (std::uint64_t{1} << kSpentBits) - 1;
constexpr double kNanoPerUsd = 1e9;

std::uint64_t pack(std::uint32_t day, std::uint64_t nano) {
  return (static_cast<std::uint64_t>(day & 0xFFFF) << kSpentBits) | (nano & kSpentMask);
}
std::uint32_t dayOf(std::uint64_t v) { return static_cast<std::uint32_t>(v >> kSpentBits); }
std::uint64_t nanoOf(std::uint64_t v) { return v & kSpentMask; }

std::uint64_t toNano(double usd) {
  if (!(usd > 0)) return 0;  // also NaN
  const double nano = std::ceil(usd * kNanoPerUsd);
  return nano >= static_cast<double>(kSpentMask) ? kSpentMask : static_cast<std::uint64_t>(nano);
}

std::int64_t daysSinceEpoch(time::SystemTime t) {
  return std::chrono::floor<std::chrono::days>(t).time_since_epoch().count();
}

}  // namespace

// One cache line per tenant, so tenants charged from different workers do not
// contend.
struct alignas(64) BudgetTracker::Counter {
  std::atomic<std::uint64_t> state{0};
  std::uint64_t limit_nano = 0;
};

BudgetTracker::BudgetTracker(const std::vector<config::ClientConfig>& clients,
                             const time::Clock& clock)
    : clock_(clock), counters_(std::make_unique<Counter[]>(clients.size())) {
  const std::uint32_t day = today();
  for (const auto& client : clients) {
    if (!client.budget.usd_per_day || index_.contains(client.tenant)) continue;
    const std::size_t i = index_.size();
    counters_[i].limit_nano = toNano(*client.budget.usd_per_day);
    counters_[i].state.store(pack(day, 0), std::memory_order_relaxed);
    index_.emplace(client.tenant, i);
  }
}

BudgetTracker::~BudgetTracker() = default;

std::uint32_t BudgetTracker::today() const {
  return static_cast<std::uint32_t>(daysSinceEpoch(clock_.systemNow()) & 0xFFFF);
}

BudgetTracker::Counter* BudgetTracker::find(std::string_view tenant) const {
  // Heterogeneous lookup needs C++20 transparent hashing; tenants are short.
  const auto it = index_.find(std::string(tenant));
  return it == index_.end() ? nullptr : &counters_[it->second];
}

bool BudgetTracker::allow(std::string_view tenant, double estimated_usd) const {
  const Counter* c = find(tenant);
  if (c == nullptr) return true;
  const std::uint64_t v = c->state.load(std::memory_order_relaxed);
  const std::uint64_t spent = dayOf(v) == today() ? nanoOf(v) : 0;
  return spent + toNano(estimated_usd) <= c->limit_nano;
}

void BudgetTracker::charge(std::string_view tenant, double actual_usd) {
  Counter* c = find(tenant);
  if (c == nullptr) return;
  auto& state = c->state;
  const std::uint64_t add = toNano(actual_usd);
  const std::uint32_t day = today();
  std::uint64_t v = state.load(std::memory_order_relaxed);
  std::uint64_t next;
  do {
    const std::uint64_t spent = dayOf(v) == day ? nanoOf(v) : 0;
    next = pack(day, std::min(spent + add, kSpentMask));
  } while (!state.compare_exchange_weak(v, next, std::memory_order_relaxed));
}

std::optional<BudgetStatus> BudgetTracker::status(std::string_view tenant) const {
  const Counter* c = find(tenant);
  if (c == nullptr) return std::nullopt;
  const std::uint64_t v = c->state.load(std::memory_order_relaxed);
  const std::uint64_t spent = dayOf(v) == today() ? nanoOf(v) : 0;
  BudgetStatus s;
  s.limit_usd = c->limit_nano / kNanoPerUsd;
  s.spent_usd = spent / kNanoPerUsd;
  s.remaining_usd = spent >= c->limit_nano ? 0 : (c->limit_nano - spent) / kNanoPerUsd;
  s.resets_at = time::SystemTime(std::chrono::floor<std::chrono::days>(clock_.systemNow()) +
                                 std::chrono::days(1));
  return s;
}

std::optional<double> BudgetTracker::remaining(std::string_view tenant) const {
  const auto s = status(tenant);
  if (!s) return std::nullopt;
  return s->remaining_usd;
}

std::uint64_t BudgetTracker::secondsUntilReset() const {
  const time::SystemTime now = clock_.systemNow();
  const auto next = std::chrono::floor<std::chrono::days>(now) + std::chrono::days(1);
  const auto secs = std::chrono::ceil<std::chrono::seconds>(next - now).count();
  return secs < 1 ? 1 : static_cast<std::uint64_t>(secs);
}

}  // namespace llmgate::proxy::cost
