// PrometheusSource: `metrics_source: {kind: prometheus, url: ...}`. Every
// evaluate_every it reads llmgate's cumulative series from Prometheus (summed
// over the fleet), turns the increase since the previous poll into one
// TelemetryReport and hands it to the sink, which ingests it exactly like a
// proxy's report (node "prometheus"), so one policy path judges both sources.
//
//   sum by (model, le) (llmgate_request_duration_seconds_bucket)
//   sum by (model, le) (llmgate_time_to_first_token_seconds_bucket)
//   sum by (model, provider, outcome) (llmgate_upstream_attempts_total)
//   sum by (model, kind) (llmgate_tokens_total), sum by (model) (llmgate_cost_usd_total)
//
// Histogram buckets become sketch samples spread evenly inside each bucket
// (the linear interpolation histogram_quantile uses; +Inf at the last finite
// bound), so the window's p95 is what
// histogram_quantile(0.95, sum by (le, model) (rate(..._bucket[window])))
// reports, within a bucket's resolution. A counter that went down (a proxy
// restarted) counts its new value as the increase. The first poll only sets
// the baseline. Runs on its own thread; Prometheus errors are logged and the
// interval is skipped.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <tuple>
#include <utility>

#include "absl/status/status.h"
#include "common/config/schema.h"
#include "common/sketch/latency_sketch.h"
#include "common/time/clock.h"
#include "control/metrics/prometheus_client.h"
#include "llmgate/control/v1/telemetry.pb.h"

namespace llmgate::control::metrics {

// Cumulative values read at one poll.
struct PromCounters {
  // model -> upper bound (le, +inf for "+Inf") -> cumulative count
  std::map<std::string, std::map<double, double>> duration;
  std::map<std::string, std::map<double, double>> ttft;
  // (model, provider, outcome) -> attempts
  std::map<std::tuple<std::string, std::string, std::string>, double> attempts;
  // (model, kind: prompt | cached_prompt | completion) -> tokens
  std::map<std::pair<std::string, std::string>, double> tokens;
  // model -> USD
  std::map<std::string, double> cost;
};

// Samples spread over the buckets of a histogram's increase (cumulative by le).
sketch::LatencySketch sketchFromBuckets(const std::map<double, double>& cumulative);

// The report for the increase from `before` to `after`.
llmgate::control::v1::TelemetryReport deltaReport(const PromCounters& before,
                                                  const PromCounters& after,
                                                  time::SystemTime interval_start,
                                                  time::SystemTime interval_end);

class PrometheusSource {
 public:
  using Sink = std::function<void(const llmgate::control::v1::TelemetryReport&)>;

  PrometheusSource(PrometheusClient client, config::Duration every, Sink sink);
  ~PrometheusSource();
  PrometheusSource(const PrometheusSource&) = delete;
  PrometheusSource& operator=(const PrometheusSource&) = delete;

  void start();
  void stop();
  // One poll (the thread's body; tests call it directly).
  absl::Status pollOnce();

 private:
  absl::StatusOr<PromCounters> read() const;

  PrometheusClient client_;
  const config::Duration every_;
  Sink sink_;
  std::optional<PromCounters> previous_;
  time::SystemTime previous_at_{};

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace llmgate::control::metrics
