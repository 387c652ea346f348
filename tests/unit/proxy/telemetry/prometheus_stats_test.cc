#include "proxy/telemetry/prometheus_stats.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/unit/proxy/telemetry/scrape.h"

namespace llmgate::proxy::telemetry {
namespace {

using testing::parseSamples;
using testing::sampleValue;
using testing::scrapeText;
using Labels = std::map<std::string, std::string>;

RequestRecord okRecord() {
  RequestRecord r;
  r.request_id = "req_1";
  r.tenant = "team-a";
  r.route = "auto";
  r.model = "gpt-4o-mini";
  r.provider = "fake";
  r.method = "POST";
  r.path = "/v1/chat/completions";
  r.status = 200;
  r.attempts = 1;
  r.cache = "miss";
  r.prompt_tokens = 100;
  r.cached_prompt_tokens = 40;
  r.completion_tokens = 25;
  r.cost_usd = 0.001;
  r.duration_s = 0.3;
  r.ttft_s = 0.12;
  r.routes_version = 3;
  return r;
}

const Labels kModel = {{"model", "gpt-4o-mini"}, {"provider", "fake"}};

Labels with(Labels labels, const std::string& key, const std::string& value) {
  labels[key] = value;
  return labels;
}

TEST(LatencyBucketsTest, SpanFiveMillisecondsToTwoMinutesIncreasing) {
  const auto& b = latencyBuckets();
  ASSERT_GE(b.size(), 10u);
  EXPECT_DOUBLE_EQ(b.front(), 0.005);
  EXPECT_DOUBLE_EQ(b.back(), 120.0);
  for (std::size_t i = 1; i < b.size(); ++i) EXPECT_LT(b[i - 1], b[i]) << i;
  // The thresholds policies use (DESIGN.md: p95 3s, TTFT p95 2s) are bucket bounds,
  // so histogram_quantile is exact there.
  for (double must : {0.1, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0}) {
    EXPECT_NE(std::find(b.begin(), b.end(), must), b.end()) << must;
  }
}

TEST(LatencyBucketsTest, ExposedBoundsAndInclusiveUpperEdges) {
  prometheus::Registry registry;
  PrometheusStats stats(registry, nullptr);
  RequestRecord r = okRecord();
  r.duration_s = 0.005;  // exactly on the first bound: counted in le="0.005"
  r.ttft_s = 120.5;      // past the last bound: only in +Inf
  stats.onRequest(r);
  r.duration_s = 0.0051;
  r.ttft_s.reset();  // no TTFT sample
  stats.onRequest(r);
  const std::string text = scrapeText(registry);
  const std::string d = "llmgate_request_duration_seconds_bucket";
  EXPECT_EQ(sampleValue(text, d, with(kModel, "le", "0.005")), 1);
  EXPECT_EQ(sampleValue(text, d, with(kModel, "le", "0.01")), 2);
  EXPECT_EQ(sampleValue(text, d, with(kModel, "le", "120")), 2);
  EXPECT_EQ(sampleValue(text, d, with(kModel, "le", "+Inf")), 2);
  EXPECT_EQ(sampleValue(text, "llmgate_request_duration_seconds_count", kModel), 2);
  const std::string t = "llmgate_time_to_first_token_seconds_bucket";
  EXPECT_EQ(sampleValue(text, t, with(kModel, "le", "120")), 0);
  EXPECT_EQ(sampleValue(text, t, with(kModel, "le", "+Inf")), 1);
  EXPECT_EQ(sampleValue(text, "llmgate_time_to_first_token_seconds_count", kModel), 1);
  int bounds = 0;
  for (const auto& s : parseSamples(text)) {
    if (s.name == d) ++bounds;
  }
  EXPECT_EQ(bounds, static_cast<int>(latencyBuckets().size()) + 1);
}

TEST(PrometheusStatsTest, RequestUpdatesItsSeries) {
  prometheus::Registry registry;
  PrometheusStats stats(registry, nullptr);
  stats.onRequest(okRecord());
  stats.onRequest(okRecord());
  const std::string text = scrapeText(registry);
  EXPECT_EQ(sampleValue(text, "llmgate_requests_total",
                        {{"route", "auto"},
                         {"model", "gpt-4o-mini"},
                         {"provider", "fake"},
                         {"code", "2xx"},
                         {"cache", "miss"}}),
            2);
  EXPECT_EQ(sampleValue(text, "llmgate_tokens_total", with(kModel, "kind", "prompt")), 200);
  EXPECT_EQ(sampleValue(text, "llmgate_tokens_total", with(kModel, "kind", "cached_prompt")), 80);
  EXPECT_EQ(sampleValue(text, "llmgate_tokens_total", with(kModel, "kind", "completion")), 50);
  EXPECT_NEAR(*sampleValue(text, "llmgate_cost_usd_total", kModel), 0.002, 1e-12);
  EXPECT_NEAR(*sampleValue(text, "llmgate_request_duration_seconds_sum", kModel), 0.6, 1e-12);
  EXPECT_NEAR(*sampleValue(text, "llmgate_time_to_first_token_seconds_sum", kModel), 0.24, 1e-12);
  EXPECT_EQ(sampleValue(text, "llmgate_cache_saved_usd_total"), 0);
}

TEST(PrometheusStatsTest, ErrorsUseStatusClassAndNone) {
  prometheus::Registry registry;
  PrometheusStats stats(registry, nullptr);
  RequestRecord r;  // defaults: route/model/provider/cache "none"
  r.status = 404;
  r.error_code = "model_not_found";
  stats.onRequest(r);
  r.status = 502;
  r.route = "";  // empty values become "none" (Prometheus would drop the label)
  stats.onRequest(r);
  r.status = 503;
  r.cache = "something-new";  // not in the enum: one bounded "other" series
  stats.onRequest(r);
  const std::string text = scrapeText(registry);
  const Labels none = {{"route", "none"}, {"model", "none"}, {"provider", "none"}};
  EXPECT_EQ(
      sampleValue(text, "llmgate_requests_total", with(with(none, "code", "4xx"), "cache", "none")),
      1);
  EXPECT_EQ(
      sampleValue(text, "llmgate_requests_total", with(with(none, "code", "5xx"), "cache", "none")),
      1);
  EXPECT_EQ(sampleValue(text, "llmgate_requests_total",
                        with(with(none, "code", "5xx"), "cache", "other")),
            1);
}

TEST(PrometheusStatsTest, CacheHitsAddNoTokensOrCostButSavedUsd) {
  prometheus::Registry registry;
  PrometheusStats stats(registry, nullptr);
  RequestRecord r = okRecord();
  r.cache = "hit-l1";
  r.saved_usd = 0.001;
  stats.onRequest(r);
  r.cache = "hit-l2";
  stats.onRequest(r);
  const std::string text = scrapeText(registry);
  EXPECT_EQ(sampleValue(text, "llmgate_tokens_total", with(kModel, "kind", "prompt")), 0);
  EXPECT_EQ(sampleValue(text, "llmgate_cost_usd_total", kModel), 0);
  EXPECT_NEAR(*sampleValue(text, "llmgate_cache_saved_usd_total"), 0.002, 1e-12);
  EXPECT_EQ(sampleValue(text, "llmgate_requests_total",
                        {{"route", "auto"},
                         {"model", "gpt-4o-mini"},
                         {"provider", "fake"},
                         {"code", "2xx"},
                         {"cache", "hit-l2"}}),
            1);
}

TEST(PrometheusStatsTest, EveryEventHasItsSeries) {
  prometheus::Registry registry;
  PrometheusStats stats(registry, nullptr);
  stats.onUpstreamAttempt("gpt-4o-mini", "fake", AttemptOutcome::kRateLimited);
  stats.onUpstreamAttempt("gpt-4o-mini", "fake", AttemptOutcome::kSuccess);
  stats.onRetry("fake", "rate_limited");
  stats.onRetryBudgetExhausted("fake");
  stats.onFailover("gpt-4o-mini", "mistral-large", "server_error");
  stats.onEjection("gpt-4o-mini", "fake");
  stats.setEjected("gpt-4o-mini", "fake", true);
  stats.onTruncation("gpt-4o-mini", "reprocess");
  stats.onStreamCut("gpt-4o-mini", "fake");
  stats.onCacheLookup("l1", "hit");
  stats.onCacheLookup("l2", "miss");
  stats.setCacheBytes("l1", 4096);
  stats.setCacheL2Available(true);
  stats.onKeepalivePing("fake", true, 0.25);
  stats.onKeepalivePing("fake", false, 0);
  stats.setRouteVersion(7);
  stats.setControlConnected(true);
  stats.setRouteOverride("gpt-4o-mini", "mistral-large", true);
  const std::string text = scrapeText(registry);
  EXPECT_EQ(
      sampleValue(text, "llmgate_upstream_attempts_total", with(kModel, "outcome", "rate_limited")),
      1);
  EXPECT_EQ(
      sampleValue(text, "llmgate_upstream_attempts_total", with(kModel, "outcome", "success")), 1);
  // All outcomes exist from the first attempt, so rate() sees them start at 0.
  EXPECT_EQ(sampleValue(text, "llmgate_upstream_attempts_total", with(kModel, "outcome", "quota")),
            0);
  EXPECT_EQ(sampleValue(text, "llmgate_retries_total",
                        {{"provider", "fake"}, {"reason", "rate_limited"}}),
            1);
  EXPECT_EQ(sampleValue(text, "llmgate_retry_budget_exhausted_total", {{"provider", "fake"}}), 1);
  EXPECT_EQ(
      sampleValue(text, "llmgate_failovers_total",
                  {{"from", "gpt-4o-mini"}, {"to", "mistral-large"}, {"reason", "server_error"}}),
      1);
  EXPECT_EQ(sampleValue(text, "llmgate_ejections_total", kModel), 1);
  EXPECT_EQ(sampleValue(text, "llmgate_upstream_ejected", kModel), 1);
  EXPECT_EQ(sampleValue(text, "llmgate_truncations_total",
                        {{"model", "gpt-4o-mini"}, {"action", "reprocess"}}),
            1);
  EXPECT_EQ(sampleValue(text, "llmgate_streams_cut_total", kModel), 1);
  EXPECT_EQ(sampleValue(text, "llmgate_cache_lookups_total", {{"tier", "l1"}, {"result", "hit"}}),
            1);
  EXPECT_EQ(sampleValue(text, "llmgate_cache_lookups_total", {{"tier", "l2"}, {"result", "miss"}}),
            1);
  EXPECT_EQ(sampleValue(text, "llmgate_cache_bytes", {{"tier", "l1"}}), 4096);
  EXPECT_EQ(sampleValue(text, "llmgate_cache_l2_available"), 1);
  EXPECT_EQ(
      sampleValue(text, "llmgate_keepalive_pings_total", {{"provider", "fake"}, {"result", "ok"}}),
      1);
  EXPECT_EQ(sampleValue(text, "llmgate_keepalive_pings_total",
                        {{"provider", "fake"}, {"result", "error"}}),
            1);
  EXPECT_EQ(
      sampleValue(text, "llmgate_cold_start_first_byte_seconds_count", {{"provider", "fake"}}), 1);
  EXPECT_EQ(sampleValue(text, "llmgate_route_version"), 7);
  EXPECT_EQ(sampleValue(text, "llmgate_control_connected"), 1);
  EXPECT_EQ(sampleValue(text, "llmgate_route_overrides",
                        {{"model", "gpt-4o-mini"}, {"target", "mistral-large"}}),
            1);
  stats.setEjected("gpt-4o-mini", "fake", false);
  EXPECT_EQ(sampleValue(scrapeText(registry), "llmgate_upstream_ejected", kModel), 0);
}

TEST(PrometheusStatsTest, L2AndControlGaugesAbsentUntilSet) {
  prometheus::Registry registry;
  PrometheusStats stats(registry, nullptr);
  std::string text = scrapeText(registry);
  EXPECT_FALSE(sampleValue(text, "llmgate_cache_l2_available"));
  EXPECT_FALSE(sampleValue(text, "llmgate_control_connected"));
  EXPECT_EQ(sampleValue(text, "llmgate_route_version"), 0);
  stats.setCacheL2Available(false);
  stats.setControlConnected(false);
  text = scrapeText(registry);
  EXPECT_EQ(sampleValue(text, "llmgate_cache_l2_available"), 0);
  EXPECT_EQ(sampleValue(text, "llmgate_control_connected"), 0);
}

// R67: per-request values (request ids, tenants, keys) never become labels.
TEST(PrometheusStatsTest, SeriesCountBoundedUnderDistinctRequestIdsAndTenants) {
  prometheus::Registry registry;
  PrometheusStats stats(registry, nullptr);
  stats.onRequest(okRecord());
  const std::size_t base = parseSamples(scrapeText(registry)).size();
  for (int i = 0; i < 20000; ++i) {
    RequestRecord r = okRecord();
    const std::string id = "req_" + std::to_string(i);
    const std::string tenant = "tenant-" + std::to_string(i);
    r.request_id = id;
    r.tenant = tenant;
    r.duration_s = 0.001 * (i % 3000);
    stats.onRequest(r);
  }
  const std::string text = scrapeText(registry);
  EXPECT_EQ(parseSamples(text).size(), base);
  EXPECT_EQ(text.find("req_1"), std::string::npos);
  EXPECT_EQ(text.find("tenant-"), std::string::npos);
}

TEST(PrometheusStatsTest, ConcurrentRequestsAllCounted) {
  prometheus::Registry registry;
  PrometheusStats stats(registry, nullptr);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&stats, t] {
      const std::string model = t % 2 == 0 ? "a" : "b";
      for (int i = 0; i < 5000; ++i) {
        RequestRecord r = okRecord();
        r.model = model;
        stats.onRequest(r);
        stats.onUpstreamAttempt(model, "fake", AttemptOutcome::kSuccess);
      }
    });
  }
  for (auto& t : threads) t.join();
  double total = 0;
  for (const auto& s : parseSamples(scrapeText(registry))) {
    if (s.name == "llmgate_requests_total") total += s.value;
  }
  EXPECT_EQ(total, 20000);
}

TEST(PrometheusStatsTest, AccessLogGetsOneLinePerRequestAndCountsDrops) {
  prometheus::Registry registry;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::string written;
  {
    // A sink that blocks until released: the writer falls behind, the queue fills.
    AccessLog log(
        [&](std::string_view lines) {
          std::unique_lock lock(mu);
          cv.wait(lock, [&] { return release; });
          written.append(lines);
        },
        4);
    PrometheusStats stats(registry, &log);
    for (int i = 0; i < 50; ++i) stats.onRequest(okRecord());
    EXPECT_GT(log.dropped(), 0u);
    EXPECT_EQ(sampleValue(scrapeText(registry), "llmgate_access_log_dropped_total"),
              static_cast<double>(log.dropped()));
    {
      std::lock_guard lock(mu);
      release = true;
    }
    cv.notify_all();
    log.stop();
    std::size_t lines = std::count(written.begin(), written.end(), '\n');
    EXPECT_EQ(lines + log.dropped(), 50u);
    EXPECT_GE(lines, 4u);
  }
}

}  // namespace
}  // namespace llmgate::proxy::telemetry
