#include "control/metrics/prometheus_source.h"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>

namespace llmgate::control::metrics {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(PrometheusClient, ParsesAnInstantVector) {
  auto samples = PrometheusClient::parseQueryResponse(
      R"({"status":"success","data":{"resultType":"vector","result":[)"
      R"({"metric":{"model":"a","le":"0.5"},"value":[1700000000.1,"12"]},)"
      R"({"metric":{"model":"a","le":"+Inf"},"value":[1700000000.1,"13"]}]}})");
  ASSERT_TRUE(samples.ok()) << samples.status();
  ASSERT_EQ(samples->size(), 2u);
  EXPECT_EQ((*samples)[0].labels.at("model"), "a");
  EXPECT_EQ((*samples)[0].labels.at("le"), "0.5");
  EXPECT_DOUBLE_EQ((*samples)[0].value, 12);
  EXPECT_DOUBLE_EQ((*samples)[1].value, 13);
}

TEST(PrometheusClient, RefusesErrorsAndOtherResultTypes) {
  EXPECT_FALSE(PrometheusClient::parseQueryResponse(
                   R"({"status":"error","errorType":"bad_data","error":"parse error"})")
                   .ok());
  EXPECT_FALSE(PrometheusClient::parseQueryResponse(
                   R"({"status":"success","data":{"resultType":"matrix","result":[]}})")
                   .ok());
  EXPECT_FALSE(PrometheusClient::parseQueryResponse("not json").ok());
}

TEST(PrometheusClient, CreateChecksTheUrl) {
  EXPECT_TRUE(PrometheusClient::create("http://127.0.0.1:9090", std::chrono::seconds(1)).ok());
  EXPECT_TRUE(PrometheusClient::create("http://prom:9090/prefix/", std::chrono::seconds(1)).ok());
  EXPECT_FALSE(PrometheusClient::create("https://prom:9090", std::chrono::seconds(1)).ok());
  EXPECT_FALSE(PrometheusClient::create("prom:9090", std::chrono::seconds(1)).ok());
}

TEST(PrometheusClient, UnreachableServerIsAnErrorWithinTheTimeout) {
  auto client = PrometheusClient::create("http://127.0.0.1:1", std::chrono::milliseconds(500));
  ASSERT_TRUE(client.ok());
  const auto start = std::chrono::steady_clock::now();
  auto result = client->query("up");
  EXPECT_FALSE(result.ok());
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST(SketchFromBuckets, SpreadsEachBucketLikeHistogramQuantile) {
  // 100 values: 90 in (0, 0.1], 10 in (1, 2]; none above.
  const std::map<double, double> cumulative = {{0.1, 90}, {1, 90}, {2, 100}, {kInf, 100}};
  const auto s = sketchFromBuckets(cumulative);
  EXPECT_EQ(s.count(), 100u);
  ASSERT_TRUE(s.quantile(0.5));
  EXPECT_LE(*s.quantile(0.5), 0.1 * 1.01);
  // p95: halfway into (1, 2], where histogram_quantile puts it (1.5).
  EXPECT_NEAR(*s.quantile(0.95), 1.5, 0.1);
  EXPECT_LE(s.max(), 2.0);
}

TEST(SketchFromBuckets, InfBucketCountsAtTheLastFiniteBound) {
  const auto s = sketchFromBuckets({{1, 0}, {5, 0}, {kInf, 3}});
  EXPECT_EQ(s.count(), 3u);
  EXPECT_NEAR(*s.quantile(0.5), 5.0, 0.06);
}

TEST(DeltaReport, CarriesTheIncreaseSinceThePreviousPoll) {
  PromCounters before;
  before.attempts[{"a", "pa", "success"}] = 10;
  before.attempts[{"a", "pa", "server_error"}] = 1;
  before.duration["a"] = {{0.5, 10}, {kInf, 10}};
  PromCounters after = before;
  after.attempts[{"a", "pa", "success"}] = 14;
  after.attempts[{"a", "pa", "timeout"}] = 2;
  after.attempts[{"a", "pa", "quota"}] = 1;
  after.attempts[{"b", "pb", "success"}] = 5;  // unchanged below: no entry... it is new
  after.duration["a"] = {{0.5, 10}, {kInf, 14}};
  before.tokens[{"a", "prompt"}] = 100;
  after.tokens[{"a", "prompt"}] = 160;
  after.tokens[{"a", "completion"}] = 7;
  before.cost["a"] = 1.0;
  after.cost["a"] = 1.25;
  const auto t0 = std::chrono::system_clock::time_point(std::chrono::seconds(100));
  const auto report = deltaReport(before, after, t0, t0 + std::chrono::seconds(5));
  ASSERT_EQ(report.targets_size(), 2);
  const auto& a = report.targets(0);
  EXPECT_EQ(a.model(), "a");
  EXPECT_EQ(a.provider(), "pa");
  EXPECT_EQ(a.outcomes().success(), 4u);
  EXPECT_EQ(a.outcomes().server_error(), 0u);
  EXPECT_EQ(a.outcomes().timeout(), 2u);
  EXPECT_EQ(a.outcomes().rate_limited(), 1u);
  EXPECT_EQ(a.latency().count(), 4u);  // the four slow ones, beyond 0.5 s
  EXPECT_GE(a.latency().min(), 0.5);
  EXPECT_EQ(a.tokens().prompt(), 60u);
  EXPECT_EQ(a.tokens().completion(), 7u);
  EXPECT_EQ(a.tokens().cached_prompt(), 0u);
  EXPECT_DOUBLE_EQ(a.cost_usd(), 0.25);
  EXPECT_EQ(report.targets(1).model(), "b");
  EXPECT_EQ(report.targets(1).outcomes().success(), 5u);
  EXPECT_EQ(report.interval_end().seconds(), 105);
}

TEST(DeltaReport, ACounterResetCountsTheNewValue) {
  PromCounters before;
  before.attempts[{"a", "pa", "success"}] = 100;
  PromCounters after;
  after.attempts[{"a", "pa", "success"}] = 3;  // the proxy restarted
  const auto report = deltaReport(before, after, {}, {});
  ASSERT_EQ(report.targets_size(), 1);
  EXPECT_EQ(report.targets(0).outcomes().success(), 3u);
  EXPECT_EQ(deltaReport(after, after, {}, {}).targets_size(), 0);  // quiet: left out
}

}  // namespace
}  // namespace llmgate::control::metrics
