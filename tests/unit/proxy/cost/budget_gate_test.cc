// Admission and settlement without Redis (the local path of budget_gate.h).
#include "proxy/cost/budget_gate.h"

#include <gtest/gtest.h>

#include "boost/asio/co_spawn.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/use_future.hpp"

namespace llmgate::proxy::cost {
namespace {

namespace asio = boost::asio;

template <typename T>
T run(asio::awaitable<T> task) {
  asio::io_context ioc;
  auto future = asio::co_spawn(ioc, std::move(task), asio::use_future);
  ioc.run();
  return future.get();
}

void runVoid(asio::awaitable<void> task) {
  asio::io_context ioc;
  auto future = asio::co_spawn(ioc, std::move(task), asio::use_future);
  ioc.run();
  future.get();
}

std::vector<config::ClientConfig> clients() {
  return {config::ClientConfig{.tenant = "t", .budget = {.usd_per_day = 0.2}},
          config::ClientConfig{.tenant = "free"}};
}

TEST(BudgetGateTest, ReservationsBoundConcurrentRequestsAndSettlementCorrects) {
  BudgetTracker tracker(clients(), time::RealClock::instance());
  std::vector<BudgetAdmission> admitted;
  // Six requests estimated at 0.03 fit in 0.2 together; the seventh does not,
  // although nothing has been charged yet.
  for (int i = 0; i < 6; ++i) {
    BudgetAdmission a = run(admitBudget(tracker, nullptr, "t", 0.03));
    ASSERT_EQ(a.verdict, BudgetAdmission::Verdict::kAllowed) << i;
    EXPECT_TRUE(a.budgeted);
    EXPECT_FALSE(a.shared);
    admitted.push_back(a);
  }
  BudgetAdmission refused = run(admitBudget(tracker, nullptr, "t", 0.03));
  EXPECT_EQ(refused.verdict, BudgetAdmission::Verdict::kExceeded);
  EXPECT_EQ(refused.window, BudgetWindow::kDay);
  // Each answer cost 0.024: settling frees 0.006 each; one failed (0).
  for (int i = 0; i < 5; ++i) runVoid(settleBudget(tracker, nullptr, "t", admitted[i], 0.024));
  runVoid(settleBudget(tracker, nullptr, "t", admitted[5], 0.0));
  EXPECT_NEAR(tracker.status("t")->spent_usd, 0.12, 1e-9);
  // A refused admission settles nothing.
  runVoid(settleBudget(tracker, nullptr, "t", refused, 1.0));
  EXPECT_NEAR(tracker.status("t")->spent_usd, 0.12, 1e-9);
}

TEST(BudgetGateTest, UnbudgetedTenantsPassWithoutCounting) {
  BudgetTracker tracker(clients(), time::RealClock::instance());
  BudgetAdmission a = run(admitBudget(tracker, nullptr, "free", 1e9));
  EXPECT_EQ(a.verdict, BudgetAdmission::Verdict::kAllowed);
  EXPECT_FALSE(a.budgeted);
}

TEST(BudgetGateTest, KeysNameTenantWindowAndNumber) {
  EXPECT_EQ(budgetKey("acme", BudgetWindow::kDay, 20500), "budget:acme:d:20500");
  EXPECT_EQ(budgetKey("acme", BudgetWindow::kMinute, 29520000), "budget:acme:m:29520000");
}

}  // namespace
}  // namespace llmgate::proxy::cost
