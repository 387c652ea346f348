#include "proxy/cost/budget.h"

#include <chrono>
#include <cmath>

namespace llmgate::proxy::cost {
namespace {

// Packed state: high 16 bits the window number modulo 2^16 (only equality
// matters), low 48 bits nano-USD spent in it (saturating at ~281,000 USD).
constexpr int kSpentBits = 48;
constexpr std::uint64_t kSpentMask = (std::uint64_t{1} << kSpentBits) - 1;
constexpr double kNanoPerUsd = 1e9;

std::uint64_t pack(std::uint32_t window, std::uint64_t nano) {
  return (static_cast<std::uint64_t>(window & 0xFFFF) << kSpentBits) | (nano & kSpentMask);
}
std::uint32_t windowOf(std::uint64_t v) { return static_cast<std::uint32_t>(v >> kSpentBits); }
std::uint64_t nanoOf(std::uint64_t v) { return v & kSpentMask; }

std::uint64_t toNano(double usd) {
  if (!(usd > 0)) return 0;  // also NaN
  const double nano = std::ceil(usd * kNanoPerUsd);
  return nano >= static_cast<double>(kSpentMask) ? kSpentMask : static_cast<std::uint64_t>(nano);
}

std::chrono::system_clock::duration periodOf(BudgetWindow window) {
  return window == BudgetWindow::kDay ? std::chrono::system_clock::duration(std::chrono::days(1))
                                      : std::chrono::minutes(1);
}

}  // namespace

const char* toString(BudgetWindow window) {
  return window == BudgetWindow::kDay ? "day" : "minute";
}

// One cache line per window, so tenants charged from different workers do
// not contend.
struct alignas(64) BudgetTracker::Counter {
  std::atomic<std::uint64_t> state{0};
  std::uint64_t limit_nano = 0;
  bool limited = false;
};

struct BudgetTracker::Tenant {
  Counter windows[2];  // [kDay], [kMinute]
  config::Budget budget;
  Counter& at(BudgetWindow w) { return windows[static_cast<int>(w)]; }
  const Counter& at(BudgetWindow w) const { return windows[static_cast<int>(w)]; }
};

namespace {

constexpr BudgetWindow kWindows[] = {BudgetWindow::kDay, BudgetWindow::kMinute};

}  // namespace

BudgetTracker::BudgetTracker(const std::vector<config::ClientConfig>& clients,
                             const time::Clock& clock)
    : clock_(clock), tenants_(std::make_unique<Tenant[]>(clients.size())) {
  for (const auto& client : clients) {
    const config::Budget& b = client.budget;
    if ((!b.usd_per_day && !b.usd_per_minute) || index_.contains(client.tenant)) continue;
    const std::size_t i = index_.size();
    Tenant& t = tenants_[i];
    t.budget = b;
    const std::optional<double> limits[] = {b.usd_per_day, b.usd_per_minute};
    for (BudgetWindow w : kWindows) {
      Counter& c = t.at(w);
      const auto& limit = limits[static_cast<int>(w)];
      c.limited = limit.has_value();
      c.limit_nano = limit ? toNano(*limit) : 0;
      c.state.store(pack(static_cast<std::uint32_t>(windowNumber(w)), 0),
                    std::memory_order_relaxed);
    }
    index_.emplace(client.tenant, i);
  }
}

BudgetTracker::~BudgetTracker() = default;

std::int64_t BudgetTracker::windowNumber(BudgetWindow window) const {
  const auto since = clock_.systemNow().time_since_epoch();
  return window == BudgetWindow::kDay ? std::chrono::floor<std::chrono::days>(since).count()
                                      : std::chrono::floor<std::chrono::minutes>(since).count();
}

const BudgetTracker::Tenant* BudgetTracker::find(std::string_view tenant) const {
  // Heterogeneous lookup needs C++20 transparent hashing; tenants are short.
  const auto it = index_.find(std::string(tenant));
  return it == index_.end() ? nullptr : &tenants_[it->second];
}

BudgetTracker::Tenant* BudgetTracker::find(std::string_view tenant) {
  const auto it = index_.find(std::string(tenant));
  return it == index_.end() ? nullptr : &tenants_[it->second];
}

void BudgetTracker::carryOver(const BudgetTracker& previous) {
  for (const auto& [name, i] : index_) {
    const Tenant* old = previous.find(name);
    if (old == nullptr) continue;
    for (BudgetWindow w : kWindows) {
      tenants_[i].at(w).state.store(old->at(w).state.load(std::memory_order_relaxed),
                                    std::memory_order_relaxed);
    }
  }
}

bool BudgetTracker::budgeted(std::string_view tenant) const { return find(tenant) != nullptr; }

const config::Budget* BudgetTracker::budgetOf(std::string_view tenant) const {
  const Tenant* t = find(tenant);
  return t == nullptr ? nullptr : &t->budget;
}

namespace {

std::uint64_t spentNow(const std::atomic<std::uint64_t>& state, std::uint32_t window) {
  const std::uint64_t v = state.load(std::memory_order_relaxed);
  return windowOf(v) == (window & 0xFFFF) ? nanoOf(v) : 0;
}

// Applies `f(spent) -> optional<new spent>` to the current window; false when
// `f` declined.
template <typename F>
bool update(std::atomic<std::uint64_t>& state, std::uint32_t window, F f) {
  std::uint64_t v = state.load(std::memory_order_relaxed);
  std::uint64_t next;
  do {
    const std::uint64_t spent = windowOf(v) == (window & 0xFFFF) ? nanoOf(v) : 0;
    const std::optional<std::uint64_t> updated = f(spent);
    if (!updated) return false;
    next = pack(window, std::min(*updated, kSpentMask));
  } while (!state.compare_exchange_weak(v, next, std::memory_order_relaxed));
  return true;
}

}  // namespace

std::optional<BudgetWindow> BudgetTracker::exceeded(std::string_view tenant,
                                                    double estimated_usd) const {
  const Tenant* t = find(tenant);
  if (t == nullptr) return std::nullopt;
  const std::uint64_t add = toNano(estimated_usd);
  for (BudgetWindow w : kWindows) {
    const Counter& c = t->at(w);
    if (!c.limited) continue;
    const auto window = static_cast<std::uint32_t>(windowNumber(w));
    if (spentNow(c.state, window) + add > c.limit_nano) return w;
  }
  return std::nullopt;
}

bool BudgetTracker::allow(std::string_view tenant, double estimated_usd) const {
  return !exceeded(tenant, estimated_usd);
}

std::optional<BudgetWindow> BudgetTracker::tryReserve(std::string_view tenant,
                                                      double estimated_usd) {
  Tenant* t = find(tenant);
  if (t == nullptr) return std::nullopt;
  const std::uint64_t add = toNano(estimated_usd);
  bool taken[2] = {false, false};
  std::optional<BudgetWindow> refused;
  for (BudgetWindow w : kWindows) {
    Counter& c = t->at(w);
    const auto window = static_cast<std::uint32_t>(windowNumber(w));
    const std::uint64_t limit = c.limited ? c.limit_nano : kSpentMask;
    const bool ok = update(c.state, window, [&](std::uint64_t spent) {
      return spent + add > limit ? std::nullopt : std::optional<std::uint64_t>(spent + add);
    });
    if (!ok) {
      refused = w;
      break;
    }
    taken[static_cast<int>(w)] = true;
  }
  if (refused) {
    for (BudgetWindow w : kWindows) {
      if (!taken[static_cast<int>(w)]) continue;
      const auto window = static_cast<std::uint32_t>(windowNumber(w));
      update(t->at(w).state, window, [&](std::uint64_t spent) {
        return std::optional<std::uint64_t>(spent > add ? spent - add : 0);
      });
    }
  }
  return refused;
}

void BudgetTracker::charge(std::string_view tenant, double actual_usd) {
  Tenant* t = find(tenant);
  if (t == nullptr) return;
  const std::uint64_t add = toNano(actual_usd);
  for (BudgetWindow w : kWindows) {
    const auto window = static_cast<std::uint32_t>(windowNumber(w));
    update(t->at(w).state, window,
           [&](std::uint64_t spent) { return std::optional<std::uint64_t>(spent + add); });
  }
}

void BudgetTracker::refund(std::string_view tenant, double usd) {
  Tenant* t = find(tenant);
  if (t == nullptr) return;
  const std::uint64_t sub = toNano(usd);
  if (sub == 0) return;
  for (BudgetWindow w : kWindows) {
    const auto window = static_cast<std::uint32_t>(windowNumber(w));
    update(t->at(w).state, window, [&](std::uint64_t spent) {
      return std::optional<std::uint64_t>(spent > sub ? spent - sub : 0);
    });
  }
}

void BudgetTracker::setSpent(std::string_view tenant, double day_spent_usd,
                             double minute_spent_usd) {
  Tenant* t = find(tenant);
  if (t == nullptr) return;
  const double totals[] = {day_spent_usd, minute_spent_usd};
  for (BudgetWindow w : kWindows) {
    const std::uint64_t total = toNano(totals[static_cast<int>(w)]);
    const auto window = static_cast<std::uint32_t>(windowNumber(w));
    update(t->at(w).state, window, [&](std::uint64_t) { return std::optional(total); });
  }
}

bool BudgetTracker::low(std::string_view tenant) const {
  const Tenant* t = find(tenant);
  if (t == nullptr) return false;
  for (BudgetWindow w : kWindows) {
    const Counter& c = t->at(w);
    if (!c.limited) continue;
    const auto window = static_cast<std::uint32_t>(windowNumber(w));
    const double spent = static_cast<double>(spentNow(c.state, window));
    if (spent >= static_cast<double>(c.limit_nano) * t->budget.low_at_percent / 100.0) return true;
  }
  return false;
}

std::optional<BudgetStatus> BudgetTracker::status(std::string_view tenant,
                                                  BudgetWindow window) const {
  const Tenant* t = find(tenant);
  if (t == nullptr || !t->at(window).limited) return std::nullopt;
  const Counter& c = t->at(window);
  const std::uint64_t spent = spentNow(c.state, static_cast<std::uint32_t>(windowNumber(window)));
  BudgetStatus s;
  s.limit_usd = c.limit_nano / kNanoPerUsd;
  s.spent_usd = spent / kNanoPerUsd;
  s.remaining_usd = spent >= c.limit_nano ? 0 : (c.limit_nano - spent) / kNanoPerUsd;
  const auto period = periodOf(window);
  const auto since = clock_.systemNow().time_since_epoch();
  s.resets_at = time::SystemTime((since / period + 1) * period);
  return s;
}

std::optional<double> BudgetTracker::remaining(std::string_view tenant, BudgetWindow window) const {
  const auto s = status(tenant, window);
  if (!s) return std::nullopt;
  return s->remaining_usd;
}

std::uint64_t BudgetTracker::secondsUntilReset(BudgetWindow window) const {
  const auto period = periodOf(window);
  const auto since = clock_.systemNow().time_since_epoch();
  const auto next = (since / period + 1) * period;
  const auto secs = std::chrono::ceil<std::chrono::seconds>(next - since).count();
  return secs < 1 ? 1 : static_cast<std::uint64_t>(secs);
}

}  // namespace llmgate::proxy::cost
