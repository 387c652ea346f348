#include "control/policy/fleet_window.h"

#include <gtest/gtest.h>

namespace llmgate::control::policy {
namespace {

using std::chrono::seconds;

TargetSample sample(double latency, std::uint64_t ok, std::uint64_t errors = 0) {
  TargetSample s;
  s.model = std::string("a");
  s.provider = std::string("p");
  s.outcomes.success = ok;
  s.outcomes.server_error = errors;
  for (std::uint64_t i = 0; i < ok; ++i) s.latency.add(latency);
  return s;
}

TEST(FleetWindow, MergesNodesAndExpiresOldBuckets) {
  const time::SystemTime t0{seconds(1000000)};
  FleetWindow window(seconds(60));
  window.add("n1", sample(1, 10), t0);
  window.add("n2", sample(2, 10, 5), t0 + seconds(1));
  WindowStats stats = window.stats("a", t0 + seconds(2));
  EXPECT_EQ(stats.samples(), 25u);
  EXPECT_EQ(stats.nodes.size(), 2u);
  EXPECT_NEAR(stats.errorRate(), 5.0 / 25, 1e-9);
  EXPECT_EQ(window.stats("b", t0).samples(), 0u);
  // 61 s later the bucket has left the window.
  EXPECT_EQ(window.stats("a", t0 + seconds(61)).samples(), 0u);
  window.expire(t0 + seconds(61));
  EXPECT_EQ(window.stats("a", t0 + seconds(2)).samples(), 0u);
}

TEST(FleetWindow, SinceSkipsEarlierBuckets) {
  const time::SystemTime t0{seconds(1000000)};
  FleetWindow window(seconds(60));
  window.add("n1", sample(1, 10), t0);
  window.add("n1", sample(1, 3), t0 + seconds(10));
  EXPECT_EQ(window.stats("a", t0 + seconds(11), t0 + seconds(10)).samples(), 3u);
  EXPECT_EQ(window.stats("a", t0 + seconds(11), t0 + seconds(3)).samples(), 3u);
  EXPECT_EQ(window.stats("a", t0 + seconds(11), t0).samples(), 13u);
}

TEST(FleetWindow, ClientErrorsAreNotJudged) {
  TargetSample s = sample(1, 8, 2);
  s.outcomes.client_error = 10;
  WindowStats stats;
  stats.add("n", s);
  EXPECT_EQ(stats.samples(), 20u);
  EXPECT_NEAR(stats.errorRate(), 0.2, 1e-9);
}

}  // namespace
}  // namespace llmgate::control::policy
