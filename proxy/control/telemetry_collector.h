// TelemetryCollector: the Stats sink that accumulates, per (model, provider),
// what telemetry.proto's TargetReport carries (outcome counts per upstream
// attempt, latency and TTFT sketches of successful requests, tokens, cost)
// until the reporter drains it every `control_plane.report_interval`.
//
// No global mutex on the request path: each thread that reports gets its own
// shard (registered once per thread under a registry lock) whose mutex only
// that thread and the draining reporter take, so it is uncontended except
// for the instant of a drain. drain() swaps every shard's map out and merges
// them; each interval's deltas are therefore counted exactly once.
//
// Classification (from the events the handlers already emit):
// - onUpstreamAttempt: success, rate_limited (also quota), server_error,
//   timeout, connect_error, client_error.
// - onStreamCut: stream_cut. The handler reports the same attempt again
//   through onUpstreamAttempt with the failure's outcome; that next non-success
//   attempt of the target is not counted a second time.
// - onTruncation (any action): truncated, for the model's target.
// - onAttemptTiming (successful attempts): latency, and TTFT for streams.
// - onRequest with a 2xx status on an upstream answer (not a cache hit):
//   tokens and cost.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/sketch/latency_sketch.h"
#include "common/sketch/outcome_counts.h"
#include "proxy/telemetry/stats.h"

namespace llmgate::proxy::control {

using OutcomeCounts = sketch::OutcomeCounts;

// One target's deltas over one interval.
struct TargetDelta {
  std::string model;
  std::string provider;
  OutcomeCounts outcomes;
  sketch::LatencySketch latency;
  sketch::LatencySketch ttft;
  std::uint64_t prompt_tokens = 0;
  std::uint64_t cached_prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  double cost_usd = 0;

  void merge(const TargetDelta& other);
};

class TelemetryCollector final : public telemetry::Stats {
 public:
  TelemetryCollector();
  ~TelemetryCollector() override;
  TelemetryCollector(const TelemetryCollector&) = delete;
  TelemetryCollector& operator=(const TelemetryCollector&) = delete;

  // Everything reported since the previous drain, one entry per target with
  // at least one attempt, sorted by (model, provider). Resets the counts.
  std::vector<TargetDelta> drain();

  void onRequest(const telemetry::RequestRecord& record) override;
  void onUpstreamAttempt(std::string_view model, std::string_view provider,
                         telemetry::AttemptOutcome outcome) override;
  void onAttemptTiming(std::string_view model, std::string_view provider, double duration_s,
                       std::optional<double> ttft_s) override;
  void onTruncation(std::string_view model, std::string_view action) override;
  void onStreamCut(std::string_view model, std::string_view provider) override;

  // Not part of the report.
  void onRetry(std::string_view, std::string_view) override {}
  void onRetryBudgetExhausted(std::string_view) override {}
  void onFailover(std::string_view, std::string_view, std::string_view) override {}
  void onEjection(std::string_view, std::string_view) override {}
  void setEjected(std::string_view, std::string_view, bool) override {}
  void onCacheLookup(std::string_view, std::string_view) override {}
  void setCacheBytes(std::string_view, double) override {}
  void setCacheL2Available(bool) override {}
  void onKeepalivePing(std::string_view, bool, double) override {}

 private:
  struct Shard;
  Shard& shard();

  const std::uint64_t id_;  // tells this collector's thread-local shard cache apart
  std::mutex registry_mu_;  // shard registration (once per thread) and drain
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace llmgate::proxy::control
