#include "control/policy/policy_engine.h"

#include <gtest/gtest.h>

namespace llmgate::control::policy {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;

class PolicyEngineTest : public ::testing::Test {
 protected:
  PolicyEngineTest() : window_(seconds(60)) {
    policy_.model = std::string("a");
    policy_.p95_latency_max = seconds(3);
    policy_.error_rate_max = 0.2;
    policy_.min_samples = 50;
    policy_.shift_to = std::string("b");
    policy_.shift_for = minutes(5);
    policy_.probe_percent = 5;
  }

  void report(double latency, std::uint64_t ok, std::uint64_t errors = 0) {
    TargetSample s;
    s.model = std::string("a");
    s.provider = std::string("p");
    s.outcomes.success = ok;
    s.outcomes.server_error = errors;
    for (std::uint64_t i = 0; i < ok; ++i) s.latency.add(latency);
    window_.add("node-1", s, now_);
  }
  std::vector<PolicyAction> evaluate() {
    engine_.setPolicies(engine_.policies().empty() ? std::vector{policy_} : engine_.policies());
    return engine_.evaluate(window_, now_);
  }
  void advance(config::Duration d) { now_ += d; }

  config::PolicyConfig policy_;
  FleetWindow window_;
  PolicyEngine engine_;
  time::SystemTime now_{seconds(1'700'000'000)};
};

TEST_F(PolicyEngineTest, HealthyModelStays) {
  report(0.5, 100);
  advance(seconds(1));
  EXPECT_TRUE(evaluate().empty());
}

TEST_F(PolicyEngineTest, SlowP95StartsAShiftWithProbeWeight) {
  report(4.0, 100);
  advance(seconds(1));
  std::vector<PolicyAction> actions = evaluate();
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].kind, ActionKind::kStart);
  EXPECT_EQ(actions[0].shift_to, "b");
  EXPECT_DOUBLE_EQ(actions[0].weight, 0.95);
  EXPECT_EQ(actions[0].until, now_ + minutes(5));
  EXPECT_NE(actions[0].reason.find("p95"), std::string::npos) << actions[0].reason;
  EXPECT_NE(actions[0].reason.find("100 samples"), std::string::npos) << actions[0].reason;
  EXPECT_TRUE(engine_.shifted("a"));
  // While shifted and before shift_for, nothing more happens.
  advance(seconds(30));
  EXPECT_TRUE(evaluate().empty());
}

TEST_F(PolicyEngineTest, BelowMinSamplesNoJudgement) {
  report(10.0, 49);
  advance(seconds(1));
  EXPECT_TRUE(evaluate().empty());
  report(10.0, 1);
  advance(seconds(5));
  EXPECT_EQ(evaluate().size(), 1u);
}

TEST_F(PolicyEngineTest, ErrorRateStartsAShift) {
  report(0.1, 70, 30);
  advance(seconds(1));
  std::vector<PolicyAction> actions = evaluate();
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_NE(actions[0].reason.find("error rate"), std::string::npos);
}

TEST_F(PolicyEngineTest, TtftStartsAShift) {
  policy_.p95_latency_max.reset();
  policy_.ttft_p95_max = seconds(2);
  TargetSample s;
  s.model = std::string("a");
  s.outcomes.success = 60;
  for (int i = 0; i < 60; ++i) s.ttft.add(2.5);
  window_.add("n", s, now_);
  advance(seconds(1));
  std::vector<PolicyAction> actions = evaluate();
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_NE(actions[0].reason.find("ttft"), std::string::npos);
}

TEST_F(PolicyEngineTest, HysteresisExtendsWhileProbeIsUnhealthyThenEnds) {
  report(4.0, 100);
  advance(seconds(1));
  ASSERT_EQ(evaluate().size(), 1u);
  // The probe share (5 %) stays slow during the shift.
  for (int i = 0; i < 60; ++i) {
    advance(seconds(5));
    report(4.0, 5);
  }
  std::vector<PolicyAction> actions = evaluate();
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].kind, ActionKind::kExtend);
  EXPECT_TRUE(engine_.shifted("a"));
  // Then it recovers: after the next shift_for, the probe samples are fast.
  for (int i = 0; i < 60; ++i) {
    advance(seconds(5));
    report(0.4, 5);
  }
  actions = evaluate();
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].kind, ActionKind::kEnd);
  EXPECT_FALSE(engine_.shifted("a"));
}

TEST_F(PolicyEngineTest, ProbeWithTooFewSamplesKeepsTheShift) {
  report(4.0, 100);
  advance(seconds(1));
  ASSERT_EQ(evaluate().size(), 1u);
  advance(minutes(5));
  report(0.1, 3);  // healthy but only 3 samples < 50
  advance(seconds(5));
  std::vector<PolicyAction> actions = evaluate();
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].kind, ActionKind::kExtend);
  EXPECT_NE(actions[0].reason.find("fewer than min_samples"), std::string::npos);
}

TEST_F(PolicyEngineTest, WithoutProbeTheShiftEndsAndFreshSamplesDecide) {
  policy_.probe_percent = 0;
  report(4.0, 100);
  advance(seconds(1));
  std::vector<PolicyAction> actions = evaluate();
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_DOUBLE_EQ(actions[0].weight, 1.0);
  advance(minutes(5));
  actions = evaluate();
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].kind, ActionKind::kEnd);
  // Old slow samples (had they still been in the window) do not count: only
  // fresh ones. Fresh slow ones start a new shift.
  advance(seconds(5));
  EXPECT_TRUE(evaluate().empty());
  report(5.0, 60);
  advance(seconds(5));
  actions = evaluate();
  ASSERT_EQ(actions.size(), 1u);
  EXPECT_EQ(actions[0].kind, ActionKind::kStart);
}

TEST_F(PolicyEngineTest, StaleSamplesBeforeShiftEndAreNotJudgedAgain) {
  policy_.probe_percent = 0;
  policy_.shift_for = seconds(10);
  report(4.0, 100);
  advance(seconds(1));
  ASSERT_EQ(evaluate().size(), 1u);
  advance(seconds(10));
  ASSERT_EQ(evaluate()[0].kind, ActionKind::kEnd);
  // The slow samples are still within the 60 s window, but they predate the end.
  advance(seconds(5));
  EXPECT_TRUE(evaluate().empty());
}

TEST(PolicyJudge, UnknownWithoutSamples) {
  config::PolicyConfig policy;
  policy.p95_latency_max = seconds(1);
  EXPECT_EQ(judge(policy, WindowStats{}, seconds(60)), Health::kUnknown);
}

}  // namespace
}  // namespace llmgate::control::policy
