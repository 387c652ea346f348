#include "proxy/upstream/target_health.h"

#include <gtest/gtest.h>

namespace llmgate::proxy::upstream {
namespace {

using std::chrono::seconds;

TEST(TargetStateTest, EjectsAfterConsecutiveFailuresAndDoublesOnRepeat) {
  config::FailoverConfig failover;
  failover.eject_after = 3;
  failover.eject_for = seconds(30);
  TargetState state;
  const time::SteadyTime t0{};
  EXPECT_FALSE(state.recordFailure(failover, t0));
  EXPECT_FALSE(state.recordFailure(failover, t0));
  EXPECT_TRUE(state.recordFailure(failover, t0));
  EXPECT_TRUE(state.ejected(t0 + seconds(29)));
  EXPECT_FALSE(state.ejected(t0 + seconds(30)));
  // A success resets the streak: two more failures do not eject.
  state.recordSuccess();
  const time::SteadyTime t1 = t0 + seconds(40);
  EXPECT_FALSE(state.recordFailure(failover, t1));
  EXPECT_FALSE(state.recordFailure(failover, t1));
  EXPECT_TRUE(state.recordFailure(failover, t1));
  EXPECT_TRUE(state.ejected(t1 + seconds(59)));  // second ejection: 2 x 30 s
  EXPECT_FALSE(state.ejected(t1 + seconds(60)));
  EXPECT_EQ(state.ejections(), 2);
}

TEST(ProviderStateTest, CooldownOnlyExtends) {
  ProviderState state;
  const time::SteadyTime t0{};
  state.coolDown(t0 + seconds(10));
  state.coolDown(t0 + seconds(5));
  EXPECT_EQ(state.skipped(t0 + seconds(9)), SkipReason::kCooldown);
  EXPECT_EQ(state.skipped(t0 + seconds(10)), SkipReason::kNone);
  state.disableForQuota(t0);
  EXPECT_EQ(state.skipped(t0 + seconds(60)), SkipReason::kQuota);
}

TEST(HealthRegistryTest, StateSurvivesAReload) {
  config::Config c;
  c.models.push_back(config::ModelConfig{.name = "a", .provider = "p"});
  c.providers.push_back(config::ProviderConfig{.name = "p"});
  HealthRegistry first(c, nullptr);
  first.provider("p").coolDown(time::SteadyTime{} + seconds(100));
  HealthRegistry second(c, &first);
  EXPECT_EQ(&first.target("a"), &second.target("a"));
  EXPECT_EQ(second.provider("p").skipped(time::SteadyTime{} + seconds(1)), SkipReason::kCooldown);
}

}  // namespace
}  // namespace llmgate::proxy::upstream
