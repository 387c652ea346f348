// The proxy's Prometheus registry (prometheus-cpp), served on the admin
// listener's /metrics. Today: build info and process gauges read from
// ServerState at scrape time. PrometheusStats registers the per-request
// families of DESIGN.md "Metrics" into registry(), so /metrics is one registry.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>

#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "proxy/server/server_state.h"

namespace llmgate::proxy::telemetry {

class ProxyMetrics {
 public:
  explicit ProxyMetrics(const server::ServerState& state);

  // Prometheus text exposition format (0.0.4). Runs the refresh hook first.
  std::string scrape();

  // Called at each scrape (admin thread) to copy state that is not event
  // driven into gauges: cache size, pool connections, budgets, ejections.
  void setRefresh(std::function<void(ProxyMetrics&)> refresh) { refresh_ = std::move(refresh); }
  void setCacheEntries(double entries);
  void setCacheEvictionsTotal(std::uint64_t evictions);  // cumulative; the counter follows it
  void setUpstreamConnections(double connections);
  // Only tenants with a configured budget: bounded by the config.
  void setTenantSpend(const std::string& tenant, double usd_today, double limit_usd);

  // llmgate_usd_per_1k_chars{model,script}: bounded by models x scripts.
  void setUsdPer1kChars(const std::string& model, const std::string& script, double usd);

  // llmgate_token_estimate_accuracy{model}: bounded by the models.
  void setEstimateAccuracy(const std::string& model, double ratio);

  // The registry /metrics serves; other families (PrometheusStats) register here.
  prometheus::Registry& registry() { return *registry_; }

 private:
  const server::ServerState& state_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Gauge& inflight_;
  prometheus::Gauge& connections_;
  prometheus::Gauge& ready_;
  std::function<void(ProxyMetrics&)> refresh_;
  prometheus::Gauge& cache_entries_;
  prometheus::Counter& cache_evictions_;
  std::uint64_t evictions_seen_ = 0;
  prometheus::Gauge& upstream_connections_;
  prometheus::Family<prometheus::Gauge>& tenant_spend_family_;
  prometheus::Family<prometheus::Gauge>& tenant_budget_family_;
  std::map<std::string, std::pair<prometheus::Gauge*, prometheus::Gauge*>> tenant_gauges_;
  prometheus::Family<prometheus::Gauge>& usd_per_1k_chars_family_;
  std::map<std::pair<std::string, std::string>, prometheus::Gauge*> usd_per_1k_chars_;
  prometheus::Family<prometheus::Gauge>& estimate_accuracy_family_;
  std::map<std::string, prometheus::Gauge*> estimate_accuracy_;
};

}  // namespace llmgate::proxy::telemetry
