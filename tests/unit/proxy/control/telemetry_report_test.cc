// GCC 12 at -O3 reports false -Wrestrict/-Wmaybe-uninitialized on short
// std::string assignments (GCC bug 105651).
#pragma GCC diagnostic ignored "-Wrestrict"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "proxy/control/telemetry_report.h"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

namespace llmgate::proxy::control {
namespace {

TEST(TelemetryReport, CarriesEveryFieldOfTheDeltas) {
  std::vector<TargetDelta> targets(1);
  TargetDelta& t = targets[0];
  t.model = "a";
  t.provider = "pa";
  t.outcomes.success = 3;
  t.outcomes.truncated = 1;
  t.outcomes.stream_cut = 2;
  t.outcomes.client_error = 4;
  t.latency.add(0.5);
  t.latency.add(1.5);
  t.latency.add(0);
  t.prompt_tokens = 10;
  t.cached_prompt_tokens = 5;
  t.completion_tokens = 2;
  t.cost_usd = 0.125;
  const auto start = std::chrono::system_clock::time_point(std::chrono::seconds(1000));
  const auto end = start + std::chrono::milliseconds(2500);
  const auto report = makeReport(targets, start, end, "17");
  EXPECT_EQ(report.route_version(), "17");
  EXPECT_EQ(report.interval_start().seconds(), 1000);
  EXPECT_EQ(report.interval_end().seconds(), 1002);
  EXPECT_EQ(report.interval_end().nanos(), 500000000);
  ASSERT_EQ(report.targets_size(), 1);
  const auto& r = report.targets(0);
  EXPECT_EQ(r.model(), "a");
  EXPECT_EQ(r.provider(), "pa");
  EXPECT_EQ(r.outcomes().success(), 3u);
  EXPECT_EQ(r.outcomes().truncated(), 1u);
  EXPECT_EQ(r.outcomes().stream_cut(), 2u);
  EXPECT_EQ(r.outcomes().client_error(), 4u);
  EXPECT_EQ(r.latency().count(), 3u);
  EXPECT_EQ(r.latency().zero_count(), 1u);
  EXPECT_DOUBLE_EQ(r.latency().gamma(), sketch::LatencySketch::defaultGamma());
  ASSERT_EQ(r.latency().bucket_index_size(), 2);
  EXPECT_LT(r.latency().bucket_index(0), 0);  // 0.5 s: below 1 s
  EXPECT_GT(r.latency().bucket_index(1), 0);
  EXPECT_DOUBLE_EQ(r.latency().max(), 1.5);
  EXPECT_FALSE(r.has_time_to_first_token());  // empty: left unset
  EXPECT_EQ(r.tokens().prompt(), 10u);
  EXPECT_EQ(r.tokens().cached_prompt(), 5u);
  EXPECT_EQ(r.tokens().completion(), 2u);
  EXPECT_DOUBLE_EQ(r.cost_usd(), 0.125);

  // The wire form rebuilds into the same sketch (what the server does).
  std::vector<std::int32_t> index(r.latency().bucket_index().begin(),
                                  r.latency().bucket_index().end());
  std::vector<std::uint64_t> count(r.latency().bucket_count().begin(),
                                   r.latency().bucket_count().end());
  auto back = sketch::LatencySketch::fromParts(r.latency().gamma(), r.latency().zero_count(), index,
                                               count, r.latency().count(), r.latency().sum(),
                                               r.latency().min(), r.latency().max());
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->count(), 3u);
}

}  // namespace
}  // namespace llmgate::proxy::control
