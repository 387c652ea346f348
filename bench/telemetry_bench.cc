// Cost of the telemetry on the request path (issue 6: under 2 µs per request):
// PrometheusStats::onRequest (counters, two histograms, tokens, cost, the
// access-log push) plus one onUpstreamAttempt, from 1 and 4 threads. The
// access log's formatting and write happen on its own thread and are measured
// apart (BM_AccessLogFormatLine). BM_FamilyAddPerRequest shows what resolving
// handles per request would cost instead.
//
//   cmake --build build --target telemetry_bench && build/bin/telemetry_bench
#include <benchmark/benchmark.h>

#include <string>

#include "common/time/clock.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "proxy/telemetry/access_log.h"
#include "proxy/telemetry/prometheus_stats.h"

namespace {

using llmgate::proxy::telemetry::AccessLog;
using llmgate::proxy::telemetry::AttemptOutcome;
using llmgate::proxy::telemetry::PrometheusStats;
using llmgate::proxy::telemetry::RequestRecord;

RequestRecord record() {
  RequestRecord r;
  r.request_id = "req_0123456789abcdef0123456789";
  r.tenant = "team-a";
  r.route = "auto";
  r.model = "deepseek-v3";
  r.provider = "deepseek";
  r.method = "POST";
  r.path = "/v1/chat/completions";
  r.status = 200;
  r.attempts = 1;
  r.cache = "miss";
  r.stream = true;
  r.prompt_tokens = 812;
  r.cached_prompt_tokens = 256;
  r.completion_tokens = 143;
  r.cost_usd = 0.00041;
  r.duration_s = 1.7;
  r.ttft_s = 0.42;
  r.routes_version = 12;
  return r;
}

// Shared by all threads of one run, as the workers share one PrometheusStats.
struct Fixture {
  prometheus::Registry registry;
  AccessLog log{[](std::string_view lines) { benchmark::DoNotOptimize(lines.data()); }, 1 << 20};
  PrometheusStats stats{registry, &log};
  prometheus::Registry registry_no_log;
  PrometheusStats stats_no_log{registry_no_log, nullptr};
};

Fixture* fixture = nullptr;

void BM_RequestInstrumentation(benchmark::State& state) {
  if (state.thread_index() == 0) fixture = new Fixture();
  const RequestRecord r = record();
  for (auto _ : state) {
    fixture->stats.onUpstreamAttempt(r.model, r.provider, AttemptOutcome::kSuccess);
    fixture->stats.onRequest(r);
  }
  if (state.thread_index() == 0) {
    state.counters["log_dropped"] = static_cast<double>(fixture->log.dropped());
    fixture->log.stop();
    delete fixture;
    fixture = nullptr;
  }
}
BENCHMARK(BM_RequestInstrumentation)->Threads(1)->Threads(4)->UseRealTime();

void BM_RequestInstrumentationNoAccessLog(benchmark::State& state) {
  if (state.thread_index() == 0) fixture = new Fixture();
  const RequestRecord r = record();
  for (auto _ : state) {
    fixture->stats_no_log.onUpstreamAttempt(r.model, r.provider, AttemptOutcome::kSuccess);
    fixture->stats_no_log.onRequest(r);
  }
  if (state.thread_index() == 0) {
    fixture->log.stop();
    delete fixture;
    fixture = nullptr;
  }
}
BENCHMARK(BM_RequestInstrumentationNoAccessLog)->Threads(1)->Threads(4)->UseRealTime();

// Background-thread cost of one access-log line (not on the request path).
void BM_AccessLogFormatLine(benchmark::State& state) {
  const RequestRecord r = record();
  const auto at = llmgate::time::systemNow();
  for (auto _ : state) benchmark::DoNotOptimize(AccessLog::formatLine(r, at));
}
BENCHMARK(BM_AccessLogFormatLine);

// The anti-pattern SeriesMap avoids: Family::Add(labels) on every request.
void BM_FamilyAddPerRequest(benchmark::State& state) {
  prometheus::Registry registry;
  auto& family = prometheus::BuildCounter().Name("x_total").Help("x").Register(registry);
  for (auto _ : state) {
    family
        .Add({{"route", "auto"},
              {"model", "deepseek-v3"},
              {"provider", "deepseek"},
              {"code", "2xx"},
              {"cache", "miss"}})
        .Increment();
  }
}
BENCHMARK(BM_FamilyAddPerRequest);

}  // namespace

BENCHMARK_MAIN();
