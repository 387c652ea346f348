// The proxy's Prometheus registry (prometheus-cpp), served on the admin
// listener's /metrics. Today: build info and process gauges read from
// ServerState at scrape time. The per-request families of
// ../shared/DESIGN.md "Metrics" come with the observability issue.
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

 private:
  const server::ServerState& state_;
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Gauge& inflight_;
  prometheus::Gauge& connections_;
  prometheus::Gauge& ready_;
};

}  // namespace llmgate::proxy::telemetry
