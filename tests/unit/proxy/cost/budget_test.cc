#include "proxy/cost/budget.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <thread>
#include <vector>

namespace llmgate::proxy::cost {
namespace {

using namespace std::chrono_literals;

class FakeClock final : public time::Clock {
 public:
  time::SteadyTime steadyNow() const override { return time::SteadyTime(now_.load()); }
  time::SystemTime systemNow() const override { return time::SystemTime(now_.load()); }
  void set(time::SystemTime t) { now_ = t.time_since_epoch(); }
  void advance(std::chrono::system_clock::duration d) { now_ = now_.load() + d; }

 private:
  std::atomic<std::chrono::system_clock::duration> now_{};
};

// 2026-03-01 00:00:00 UTC
const time::SystemTime kMarch1 = time::SystemTime(std::chrono::sys_days(
    std::chrono::year_month_day(std::chrono::year(2026), std::chrono::March, std::chrono::day(1))));

std::vector<config::ClientConfig> clients() {
  std::vector<config::ClientConfig> c;
  c.push_back(config::ClientConfig{.tenant = "team-a", .budget = {.usd_per_day = 10.0}});
  c.push_back(config::ClientConfig{.tenant = "team-b", .budget = {.usd_per_day = 0.5}});
  c.push_back(config::ClientConfig{.tenant = "free"});
  return c;
}

TEST(BudgetTrackerTest, AllowsUntilTheLimitThenRefuses) {
  FakeClock clock;
  clock.set(kMarch1 + 10h);
  BudgetTracker b(clients(), clock);
  EXPECT_TRUE(b.allow("team-a", 10.0));
  EXPECT_FALSE(b.allow("team-a", 10.01));
  b.charge("team-a", 9.5);
  EXPECT_TRUE(b.allow("team-a", 0.5));
  EXPECT_FALSE(b.allow("team-a", 0.6));
  EXPECT_NEAR(*b.remaining("team-a"), 0.5, 1e-9);
  b.charge("team-a", 2.0);  // an answer already served is always charged
  EXPECT_FALSE(b.allow("team-a", 0.0001));
  EXPECT_EQ(*b.remaining("team-a"), 0.0);
  const auto s = b.status("team-a");
  ASSERT_TRUE(s);
  EXPECT_NEAR(s->spent_usd, 11.5, 1e-9);
  EXPECT_EQ(s->limit_usd, 10.0);
  EXPECT_EQ(s->resets_at, kMarch1 + 24h);
  // Other tenants are independent.
  EXPECT_TRUE(b.allow("team-b", 0.5));
}

TEST(BudgetTrackerTest, UnlimitedAndUnknownTenants) {
  FakeClock clock;
  BudgetTracker b(clients(), clock);
  EXPECT_TRUE(b.allow("free", 1e9));
  EXPECT_TRUE(b.allow("nobody", 1e9));
  b.charge("free", 100);
  EXPECT_FALSE(b.remaining("free"));
  EXPECT_FALSE(b.status("nobody"));
}

TEST(BudgetTrackerTest, IgnoresNegativeAndNanCharges) {
  FakeClock clock;
  BudgetTracker b(clients(), clock);
  b.charge("team-b", -5);
  b.charge("team-b", std::nan(""));
  EXPECT_NEAR(*b.remaining("team-b"), 0.5, 1e-12);
}

TEST(BudgetTrackerTest, RollsOverAtUtcMidnight) {
  FakeClock clock;
  clock.set(kMarch1 + 23h + 59min + 30s);
  BudgetTracker b(clients(), clock);
  b.charge("team-b", 0.5);
  EXPECT_FALSE(b.allow("team-b", 0.01));
  EXPECT_EQ(b.secondsUntilReset(), 30u);
  clock.advance(31s);  // 2026-03-02 00:00:01
  EXPECT_TRUE(b.allow("team-b", 0.5));
  EXPECT_NEAR(*b.remaining("team-b"), 0.5, 1e-12);
  b.charge("team-b", 0.2);
  EXPECT_NEAR(b.status("team-b")->spent_usd, 0.2, 1e-9);  // not 0.7
  EXPECT_EQ(b.secondsUntilReset(), 24u * 3600 - 1);
  // A week later the old day's spend is long gone.
  clock.advance(7 * 24h);
  EXPECT_NEAR(*b.remaining("team-b"), 0.5, 1e-12);
}

TEST(BudgetTrackerTest, SmallCostsAddUpExactly) {
  FakeClock clock;
  BudgetTracker b(clients(), clock);
  // 100,000 answers at $0.000005 (≈35 DeepSeek tokens) = $0.5
  for (int i = 0; i < 100000; ++i) b.charge("team-b", 0.000005);
  EXPECT_NEAR(b.status("team-b")->spent_usd, 0.5, 1e-9);
  EXPECT_FALSE(b.allow("team-b", 0.000001));
}

TEST(BudgetTrackerTest, ConcurrentChargesAreNotLost) {
  FakeClock clock;
  clock.set(kMarch1 + 12h);
  BudgetTracker b(clients(), clock);
  constexpr int kThreads = 8;
  constexpr int kCharges = 50000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&b] {
      for (int i = 0; i < kCharges; ++i) {
        b.charge("team-a", 0.00001);
        (void)b.allow("team-a", 0.001);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_NEAR(b.status("team-a")->spent_usd, kThreads * kCharges * 0.00001, 1e-6);
}

TEST(BudgetTrackerTest, ConcurrentChargesAcrossMidnightKeepOnlyTheNewDay) {
  FakeClock clock;
  clock.set(kMarch1 + 23h);
  BudgetTracker b(clients(), clock);
  b.charge("team-a", 5);
  clock.advance(2h);  // next day; every charge from here on belongs to it
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&b] {
      for (int i = 0; i < 10000; ++i) b.charge("team-a", 0.0001);
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_NEAR(b.status("team-a")->spent_usd, 4.0, 1e-6);
}

}  // namespace
}  // namespace llmgate::proxy::cost

namespace llmgate::proxy::cost {
namespace {

std::vector<config::ClientConfig> minuteClients() {
  std::vector<config::ClientConfig> c;
  c.push_back(config::ClientConfig{.tenant = "burst",
                                   .budget = {.usd_per_day = 100.0, .usd_per_minute = 1.0}});
  c.push_back(config::ClientConfig{.tenant = "minute-only", .budget = {.usd_per_minute = 2.0}});
  c.push_back(config::ClientConfig{.tenant = "lowish",
                                   .budget = {.usd_per_day = 10.0, .low_at_percent = 50}});
  return c;
}

TEST(BudgetWindowsTest, PerMinuteLimitResetsEachMinute) {
  FakeClock clock;
  clock.set(kMarch1 + 10h + 30s);
  BudgetTracker b(minuteClients(), clock);
  EXPECT_TRUE(b.budgeted("minute-only"));
  EXPECT_FALSE(b.status("minute-only", BudgetWindow::kDay));
  b.charge("burst", 0.9);
  EXPECT_EQ(b.exceeded("burst", 0.2), BudgetWindow::kMinute);
  EXPECT_EQ(b.secondsUntilReset(BudgetWindow::kMinute), 30u);
  EXPECT_EQ(b.status("burst", BudgetWindow::kMinute)->resets_at, kMarch1 + 10h + 1min);
  clock.advance(30s);  // the next minute
  EXPECT_FALSE(b.exceeded("burst", 0.2));
  EXPECT_NEAR(b.status("burst", BudgetWindow::kDay)->spent_usd, 0.9, 1e-9);
  EXPECT_NEAR(b.status("burst", BudgetWindow::kMinute)->spent_usd, 0.0, 1e-9);
}

TEST(BudgetWindowsTest, ReserveRefusesWithoutTakingAnything) {
  FakeClock clock;
  clock.set(kMarch1 + 1h);
  BudgetTracker b(minuteClients(), clock);
  EXPECT_FALSE(b.tryReserve("burst", 0.6));
  EXPECT_EQ(b.tryReserve("burst", 0.6), BudgetWindow::kMinute);
  // The refused reservation gave the day back.
  EXPECT_NEAR(b.status("burst", BudgetWindow::kDay)->spent_usd, 0.6, 1e-9);
  b.refund("burst", 0.6);
  EXPECT_NEAR(b.status("burst", BudgetWindow::kDay)->spent_usd, 0.0, 1e-9);
  EXPECT_FALSE(b.tryReserve("nobody", 1e9));  // unlimited
}

TEST(BudgetWindowsTest, LowAtConfiguredShare) {
  FakeClock clock;
  clock.set(kMarch1 + 1h);
  BudgetTracker b(minuteClients(), clock);
  EXPECT_FALSE(b.low("lowish"));
  b.charge("lowish", 4.99);
  EXPECT_FALSE(b.low("lowish"));
  b.charge("lowish", 0.01);  // 50 %
  EXPECT_TRUE(b.low("lowish"));
  b.charge("burst", 0.79);  // default 80 %, of the minute window here
  EXPECT_FALSE(b.low("burst"));
  b.charge("burst", 0.01);
  EXPECT_TRUE(b.low("burst"));
  EXPECT_FALSE(b.low("nobody"));
}

TEST(BudgetWindowsTest, ReloadCarriesSpendOver) {
  FakeClock clock;
  clock.set(kMarch1 + 1h);
  BudgetTracker before(minuteClients(), clock);
  before.charge("burst", 0.7);
  before.charge("lowish", 3.0);
  std::vector<config::ClientConfig> reloaded = minuteClients();
  reloaded[0].budget.usd_per_minute = 0.5;  // a new limit
  reloaded.pop_back();                      // "lowish" removed
  BudgetTracker after(reloaded, clock);
  after.carryOver(before);
  EXPECT_NEAR(after.status("burst", BudgetWindow::kDay)->spent_usd, 0.7, 1e-9);
  EXPECT_EQ(after.exceeded("burst", 0.0), BudgetWindow::kMinute);  // 0.7 > the new 0.5
  EXPECT_FALSE(after.budgeted("lowish"));
}

TEST(BudgetWindowsTest, SetSpentTakesTheFleetTotals) {
  FakeClock clock;
  clock.set(kMarch1 + 1h);
  BudgetTracker b(minuteClients(), clock);
  b.setSpent("burst", 42.0, 0.5);
  EXPECT_NEAR(b.status("burst", BudgetWindow::kDay)->spent_usd, 42.0, 1e-9);
  EXPECT_NEAR(b.status("burst", BudgetWindow::kMinute)->spent_usd, 0.5, 1e-9);
  b.setSpent("burst", 41.0, 0.4);  // a settlement gave some back
  EXPECT_NEAR(b.status("burst", BudgetWindow::kDay)->spent_usd, 41.0, 1e-9);
}

}  // namespace
}  // namespace llmgate::proxy::cost
