// Stats implemented with prometheus-cpp: the families of DESIGN.md "Metrics"
// (docs/METRICS.md lists every one), registered into the registry that the
// admin listener's /metrics serves, plus the access log.
//
// Handles are resolved once per label set (SeriesMap) and cached, so the
// request path costs a sharded-map lookup and a few atomic adds, never a
// registry call after the first request of a label set.
//
// Bounded series (R67): the caller passes configured names (route, model,
// provider) or small enums (cache, outcome, reason, action, tier, result) as
// label values and "none" for anything else (an unknown model, a route not in
// the config). This class does not validate names; it maps empty values to
// "none", status codes to their class and unknown cache values to "other",
// and caps every family at kMaxLabelSets label sets (then "other").
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <string_view>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "proxy/telemetry/access_log.h"
#include "proxy/telemetry/series_map.h"
#include "proxy/telemetry/stats.h"

namespace llmgate::proxy::telemetry {

// Buckets of the request-duration and time-to-first-token histograms (seconds):
// 5 ms to 120 s, denser around the 1-5 s that LLM latency thresholds use.
const prometheus::Histogram::BucketBoundaries& latencyBuckets();

class PrometheusStats final : public Stats {
 public:
  static constexpr std::size_t kMaxLabelSets = 10000;

  // Registers the families into `registry` (which must outlive this). The
  // access log is optional (nullptr: `logging.access_log: off`) and not owned.
  PrometheusStats(prometheus::Registry& registry, AccessLog* access_log);

  void onRequest(const RequestRecord& record) override;
  void onUpstreamAttempt(std::string_view model, std::string_view provider,
                         AttemptOutcome outcome) override;
  void onRetry(std::string_view provider, std::string_view reason) override;
  void onRetryBudgetExhausted(std::string_view provider) override;
  void onFailover(std::string_view from_model, std::string_view to_model,
                  std::string_view reason) override;
  void onEjection(std::string_view model, std::string_view provider) override;
  void setEjected(std::string_view model, std::string_view provider, bool ejected) override;
  void onTruncation(std::string_view model, std::string_view action) override;
  void onStreamCut(std::string_view model, std::string_view provider) override;
  void onCacheLookup(std::string_view tier, std::string_view result) override;
  void setCacheBytes(std::string_view tier, double bytes) override;
  void setCacheL2Available(bool available) override;
  void onKeepalivePing(std::string_view provider, bool ok, double first_byte_s) override;
  void onRouteDecision(std::string_view route, std::string_view rule) override;
  void onBudgetRefused(std::string_view tenant) override;

  // Not on Stats (yet): set by main and the control-plane client.
  void setRouteVersion(std::uint64_t version);
  void setControlConnected(bool connected);
  // 1 while an override sends `model`'s traffic to `target`, 0 after it ends.
  void setRouteOverride(std::string_view model, std::string_view target, bool active);

 private:
  static constexpr std::size_t kOutcomes = 7;  // AttemptOutcome values

  // Everything labelled {model, provider}, resolved together on first use.
  struct ModelSeries {
    prometheus::Histogram* duration = nullptr;
    prometheus::Histogram* ttft = nullptr;
    prometheus::Counter* prompt_tokens = nullptr;
    prometheus::Counter* cached_prompt_tokens = nullptr;
    prometheus::Counter* completion_tokens = nullptr;
    prometheus::Counter* cost = nullptr;
    prometheus::Counter* streams_cut = nullptr;
    prometheus::Counter* ejections = nullptr;
    prometheus::Gauge* ejected = nullptr;
    std::array<prometheus::Counter*, kOutcomes> attempts{};
  };
  struct ProviderPings {
    prometheus::Counter* ok = nullptr;
    prometheus::Counter* failed = nullptr;
    prometheus::Histogram* first_byte = nullptr;
  };

  // A gauge without labels that appears on the first set(): absent means
  // "not configured" (no L2 cache, no control plane), so alerts on value 0
  // do not fire for a proxy that has neither.
  class LazyGauge {
   public:
    explicit LazyGauge(prometheus::Family<prometheus::Gauge>& family) : family_(family) {}
    void set(double value);

   private:
    prometheus::Family<prometheus::Gauge>& family_;
    std::once_flag once_;
    prometheus::Gauge* gauge_ = nullptr;
  };

  ModelSeries modelSeries(std::string_view model, std::string_view provider);

  prometheus::Family<prometheus::Counter>& requests_family_;
  prometheus::Family<prometheus::Histogram>& duration_family_;
  prometheus::Family<prometheus::Histogram>& ttft_family_;
  prometheus::Family<prometheus::Counter>& attempts_family_;
  prometheus::Family<prometheus::Counter>& retries_family_;
  prometheus::Family<prometheus::Counter>& budget_exhausted_family_;
  prometheus::Family<prometheus::Counter>& failovers_family_;
  prometheus::Family<prometheus::Counter>& ejections_family_;
  prometheus::Family<prometheus::Gauge>& ejected_family_;
  prometheus::Family<prometheus::Counter>& truncations_family_;
  prometheus::Family<prometheus::Counter>& decisions_family_;
  prometheus::Family<prometheus::Counter>& budget_refused_family_;
  prometheus::Family<prometheus::Counter>& streams_cut_family_;
  prometheus::Family<prometheus::Counter>& tokens_family_;
  prometheus::Family<prometheus::Counter>& cost_family_;
  prometheus::Family<prometheus::Counter>& cache_lookups_family_;
  prometheus::Family<prometheus::Gauge>& cache_bytes_family_;
  prometheus::Family<prometheus::Counter>& pings_family_;
  prometheus::Family<prometheus::Histogram>& cold_start_family_;
  prometheus::Family<prometheus::Gauge>& overrides_family_;

  prometheus::Counter& cache_saved_;
  LazyGauge cache_l2_available_;
  prometheus::Gauge& route_version_;
  LazyGauge control_connected_;
  prometheus::Counter& access_log_dropped_;
  AccessLog* access_log_;

  SeriesMap<5, prometheus::Counter*> requests_{kMaxLabelSets};
  SeriesMap<2, ModelSeries> models_{kMaxLabelSets};
  SeriesMap<2, prometheus::Counter*> retries_{kMaxLabelSets};
  SeriesMap<1, prometheus::Counter*> budget_exhausted_{kMaxLabelSets};
  SeriesMap<3, prometheus::Counter*> failovers_{kMaxLabelSets};
  SeriesMap<2, prometheus::Counter*> truncations_{kMaxLabelSets};
  SeriesMap<2, prometheus::Counter*> decisions_{kMaxLabelSets};
  SeriesMap<1, prometheus::Counter*> budget_refused_{kMaxLabelSets};
  SeriesMap<2, prometheus::Counter*> cache_lookups_{kMaxLabelSets};
  SeriesMap<1, prometheus::Gauge*> cache_bytes_{kMaxLabelSets};
  SeriesMap<1, ProviderPings> pings_{kMaxLabelSets};
  SeriesMap<2, prometheus::Gauge*> overrides_{kMaxLabelSets};
};

}  // namespace llmgate::proxy::telemetry
