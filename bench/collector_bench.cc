// Cost on the request path of the control-plane telemetry collector
// (issue 7): the three events one successful request sends it
// (onUpstreamAttempt, onAttemptTiming, onRequest), from 1 and 4 threads, with
// a concurrent drain every 1000 iterations on thread 0 standing in for the
// reporter. Added to PrometheusStats' cost (bench/telemetry_bench.cc) when
// `control_plane:` is configured.
//
//   cmake --build build --target collector_bench && build/bin/collector_bench
#include <benchmark/benchmark.h>

#include "proxy/control/telemetry_collector.h"

namespace {

using llmgate::proxy::control::TelemetryCollector;
using llmgate::proxy::telemetry::AttemptOutcome;
using llmgate::proxy::telemetry::RequestRecord;

TelemetryCollector& collector() {
  static TelemetryCollector c;
  return c;
}

void BM_CollectorPerRequest(benchmark::State& state) {
  TelemetryCollector& c = collector();
  RequestRecord r;
  r.model = "deepseek-v3";
  r.provider = "deepseek";
  r.status = 200;
  r.cache = "miss";
  r.stream = true;
  r.prompt_tokens = 812;
  r.completion_tokens = 143;
  r.cost_usd = 0.00041;
  double latency = 0.5;
  std::int64_t i = 0;
  for (auto _ : state) {
    latency = latency > 5 ? 0.5 : latency * 1.001;  // walk over sketch buckets
    c.onUpstreamAttempt(r.model, r.provider, AttemptOutcome::kSuccess);
    c.onAttemptTiming(r.model, r.provider, latency, latency / 3);
    c.onRequest(r);
    if (state.thread_index() == 0 && ++i % 1000 == 0) benchmark::DoNotOptimize(c.drain());
  }
}
BENCHMARK(BM_CollectorPerRequest)->Threads(1)->Threads(4)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
