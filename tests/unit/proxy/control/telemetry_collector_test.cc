#include "proxy/control/telemetry_collector.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "proxy/control/fanout_stats.h"

namespace llmgate::proxy::control {
namespace {

using telemetry::AttemptOutcome;
using telemetry::RequestRecord;

RequestRecord ok(std::string_view model, std::string_view provider, double seconds) {
  RequestRecord r;
  r.model = model;
  r.provider = provider;
  r.status = 200;
  r.cache = "miss";
  r.duration_s = seconds;
  return r;
}

const TargetDelta* find(const std::vector<TargetDelta>& all, std::string_view model) {
  for (const auto& t : all) {
    if (t.model == model) return &t;
  }
  return nullptr;
}

TEST(TelemetryCollector, ClassifiesEveryAttemptOutcome) {
  TelemetryCollector c;
  c.onUpstreamAttempt("a", "pa", AttemptOutcome::kSuccess);
  c.onUpstreamAttempt("a", "pa", AttemptOutcome::kSuccess);
  c.onUpstreamAttempt("a", "pa", AttemptOutcome::kRateLimited);
  c.onUpstreamAttempt("a", "pa", AttemptOutcome::kQuota);
  c.onUpstreamAttempt("a", "pa", AttemptOutcome::kServerError);
  c.onUpstreamAttempt("a", "pa", AttemptOutcome::kTimeout);
  c.onUpstreamAttempt("a", "pa", AttemptOutcome::kConnectError);
  c.onUpstreamAttempt("a", "pa", AttemptOutcome::kClientError);
  c.onTruncation("a", "pass");
  const auto out = c.drain();
  ASSERT_EQ(out.size(), 1u);
  const OutcomeCounts& o = out[0].outcomes;
  EXPECT_EQ(out[0].model, "a");
  EXPECT_EQ(out[0].provider, "pa");
  EXPECT_EQ(o.success, 2u);
  EXPECT_EQ(o.truncated, 1u);
  EXPECT_EQ(o.rate_limited, 2u);
  EXPECT_EQ(o.server_error, 1u);
  EXPECT_EQ(o.timeout, 1u);
  EXPECT_EQ(o.connect_error, 1u);
  EXPECT_EQ(o.client_error, 1u);
  EXPECT_EQ(o.stream_cut, 0u);
  EXPECT_EQ(o.total(), 8u);
}

TEST(TelemetryCollector, StreamCutCountsOnceThoughTheHandlerReportsTheAttemptToo) {
  TelemetryCollector c;
  // The handler's order: onStreamCut, then the attempt with its failure outcome.
  c.onStreamCut("a", "pa");
  c.onUpstreamAttempt("a", "pa", AttemptOutcome::kTimeout);
  // A later, unrelated timeout counts as a timeout.
  c.onUpstreamAttempt("a", "pa", AttemptOutcome::kTimeout);
  const auto out = c.drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].outcomes.stream_cut, 1u);
  EXPECT_EQ(out[0].outcomes.timeout, 1u);
  EXPECT_EQ(out[0].outcomes.total(), 2u);
}

TEST(TelemetryCollector, StreamCutFollowUpAcrossADrainIsNotCountedTwice) {
  TelemetryCollector c;
  c.onStreamCut("a", "pa");
  auto first = c.drain();
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].outcomes.stream_cut, 1u);
  c.onUpstreamAttempt("a", "pa", AttemptOutcome::kServerError);
  EXPECT_TRUE(c.drain().empty());
}

TEST(TelemetryCollector, AStreamTruncationBeforeTheModelsFirstAttemptIsKept) {
  TelemetryCollector c;
  c.onTruncation("a", "pass");  // relayStream reports it before the attempt
  c.onUpstreamAttempt("a", "pa", AttemptOutcome::kSuccess);
  c.onTruncation("a", "pass");
  c.onUpstreamAttempt("a", "pa", AttemptOutcome::kSuccess);
  const auto out = c.drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].outcomes.success, 2u);
  EXPECT_EQ(out[0].outcomes.truncated, 2u);
}

TEST(TelemetryCollector, SketchesHoldSuccessfulAttemptTimings) {
  TelemetryCollector c;
  c.onUpstreamAttempt("a", "pa", AttemptOutcome::kSuccess);
  for (int i = 1; i <= 100; ++i) c.onAttemptTiming("a", "pa", i * 0.01, std::nullopt);
  c.onAttemptTiming("a", "pa", 2.0, 0.5);  // a streamed attempt
  // Whole requests (onRequest) bring tokens and cost, never latency samples:
  // their duration includes failed attempts on other targets.
  RequestRecord request = ok("a", "pa", 30.0);
  request.stream = true;
  request.ttft_s = 9.0;
  c.onRequest(request);

  const auto out = c.drain();
  ASSERT_EQ(out.size(), 1u);
  const TargetDelta& t = out[0];
  EXPECT_EQ(t.latency.count(), 101u);
  EXPECT_NEAR(t.latency.max(), 2.0, 1e-9);
  EXPECT_NEAR(t.latency.min(), 0.01, 1e-9);
  ASSERT_TRUE(t.latency.quantile(0.5));
  EXPECT_NEAR(*t.latency.quantile(0.5), 0.51, 0.51 * 0.02);
  EXPECT_EQ(t.ttft.count(), 1u);
  EXPECT_NEAR(*t.ttft.quantile(0.5), 0.5, 0.01);
}

TEST(TelemetryCollector, TokensOnlyFromSuccessfulUpstreamAnswers) {
  TelemetryCollector c;
  c.onUpstreamAttempt("a", "pa", AttemptOutcome::kSuccess);
  RequestRecord failed = ok("a", "pa", 1.0);
  failed.status = 502;
  failed.prompt_tokens = 1;
  c.onRequest(failed);
  RequestRecord hit = ok("a", "pa", 0.001);
  hit.cache = "hit-l1";
  hit.prompt_tokens = 10;
  c.onRequest(hit);
  RequestRecord coalesced = hit;
  coalesced.cache = "coalesced";
  c.onRequest(coalesced);
  RequestRecord unrouted = ok("none", "none", 5.0);
  unrouted.prompt_tokens = 100;
  c.onRequest(unrouted);
  RequestRecord good = ok("a", "pa", 1.0);
  good.prompt_tokens = 1000;
  c.onRequest(good);
  const auto out = c.drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].prompt_tokens, 1000u);
}

TEST(TelemetryCollector, TokensAndCostAdd) {
  TelemetryCollector c;
  c.onUpstreamAttempt("a", "pa", AttemptOutcome::kSuccess);
  RequestRecord r = ok("a", "pa", 1.0);
  r.prompt_tokens = 100;
  r.cached_prompt_tokens = 40;
  r.completion_tokens = 7;
  r.cost_usd = 0.25;
  c.onRequest(r);
  c.onRequest(r);
  const auto out = c.drain();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].prompt_tokens, 200u);
  EXPECT_EQ(out[0].cached_prompt_tokens, 80u);
  EXPECT_EQ(out[0].completion_tokens, 14u);
  EXPECT_DOUBLE_EQ(out[0].cost_usd, 0.5);
}

TEST(TelemetryCollector, DrainResetsAndLeavesQuietTargetsOut) {
  TelemetryCollector c;
  c.onUpstreamAttempt("a", "pa", AttemptOutcome::kSuccess);
  c.onAttemptTiming("a", "pa", 1.0, std::nullopt);
  c.onUpstreamAttempt("b", "pb", AttemptOutcome::kServerError);
  auto first = c.drain();
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].model, "a");  // sorted
  EXPECT_EQ(first[1].model, "b");
  EXPECT_TRUE(c.drain().empty());
  c.onUpstreamAttempt("b", "pb", AttemptOutcome::kSuccess);
  auto third = c.drain();
  ASSERT_EQ(third.size(), 1u);
  EXPECT_EQ(third[0].model, "b");
  EXPECT_EQ(third[0].outcomes.success, 1u);
  EXPECT_EQ(third[0].outcomes.server_error, 0u);
  EXPECT_TRUE(third[0].latency.empty());
}

TEST(TelemetryCollector, ThreadsReportIntoTheirOwnShardsAndDrainMergesThem) {
  TelemetryCollector c;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  std::uint64_t drained_success = 0;
  std::uint64_t drained_samples = 0;
  std::atomic<bool> done{false};
  // A drain running concurrently with the writers: nothing lost, nothing twice.
  std::thread drainer([&] {
    while (!done.load()) {
      for (const auto& t : c.drain()) {
        drained_success += t.outcomes.success;
        drained_samples += t.latency.count();
      }
    }
  });
  std::vector<std::thread> writers;
  for (int i = 0; i < kThreads; ++i) {
    writers.emplace_back([&c] {
      for (int k = 0; k < kPerThread; ++k) {
        c.onUpstreamAttempt("a", "pa", AttemptOutcome::kSuccess);
        c.onAttemptTiming("a", "pa", 0.1, std::nullopt);
      }
    });
  }
  for (auto& w : writers) w.join();
  done = true;
  drainer.join();
  for (const auto& t : c.drain()) {
    drained_success += t.outcomes.success;
    drained_samples += t.latency.count();
  }
  EXPECT_EQ(drained_success, std::uint64_t{kThreads} * kPerThread);
  EXPECT_EQ(drained_samples, std::uint64_t{kThreads} * kPerThread);
}

TEST(FanOutStats, ForwardsToBothSinks) {
  TelemetryCollector first;
  TelemetryCollector second;
  FanOutStats both(first, second);
  both.onUpstreamAttempt("a", "pa", AttemptOutcome::kSuccess);
  both.onAttemptTiming("a", "pa", 0.2, 0.1);
  both.onStreamCut("a", "pa");
  for (TelemetryCollector* c : {&first, &second}) {
    const auto out = c->drain();
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0].outcomes.success, 1u);
    EXPECT_EQ(out[0].outcomes.stream_cut, 1u);
    EXPECT_EQ(out[0].ttft.count(), 1u);
  }
}

TEST(TelemetryCollector, TwoCollectorsOnOneThreadStayApart) {
  TelemetryCollector first;
  TelemetryCollector second;
  first.onUpstreamAttempt("a", "pa", AttemptOutcome::kSuccess);
  second.onUpstreamAttempt("b", "pb", AttemptOutcome::kSuccess);
  first.onUpstreamAttempt("a", "pa", AttemptOutcome::kSuccess);
  const auto a = first.drain();
  const auto b = second.drain();
  ASSERT_EQ(a.size(), 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(a[0].outcomes.success, 2u);
  EXPECT_EQ(b[0].model, "b");
  EXPECT_EQ(find(a, "b"), nullptr);
}

}  // namespace
}  // namespace llmgate::proxy::control
