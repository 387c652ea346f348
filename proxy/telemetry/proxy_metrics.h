// The proxy's Prometheus registry (prometheus-cpp), served on the admin
// listener's /metrics. Today: build info and process gauges read from
// ServerState at scrape time. PrometheusStats registers the per-request
// families of DESIGN.md "Metrics" into registry(), so /metrics is one registry.
#pragma once

#include <memory>
#include <string>

#include "prometheus/gauge.h"
#include "prometheus/registry.h"
#include "proxy/server/server_state.h"

namespace llmgate::proxy::telemetry {

class ProxyMetrics {
 public:
  explicit ProxyMetrics(const server::ServerState& state);

  // Prometheus text exposition format (0.0.4).
  std::string scrape();

  // The registry /metrics serves; other families (PrometheusStats) register here.
  prometheus::Registry& registry() { return *registry_; }

 private:
  const server::ServerState& state_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Gauge& inflight_;
  prometheus::Gauge& connections_;
  prometheus::Gauge& ready_;
};

}  // namespace llmgate::proxy::telemetry
