// ControlPlaneTelemetry: the one object proxy/main.cc makes when
// `control_plane:` is configured. It owns the telemetry collector, the
// fan-out Stats the workers report to (Prometheus + collector) and the
// reporter that streams the collector's deltas to llmgate-control.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/config/schema.h"
#include "prometheus/registry.h"
#include "proxy/control/fanout_stats.h"
#include "proxy/control/telemetry_collector.h"
#include "proxy/control/telemetry_reporter.h"

namespace llmgate::proxy::control {

class ControlPlaneTelemetry {
 public:
  // `metrics` is the Prometheus Stats (kept fed through the fan-out);
  // `route_version` returns the current config's routes_version.
  static absl::StatusOr<std::unique_ptr<ControlPlaneTelemetry>> create(
      const config::ControlPlaneConfig& config, telemetry::Stats& metrics,
      prometheus::Registry& registry, std::function<std::string()> route_version);

  // What the workers report to.
  telemetry::Stats& stats() { return fanout_; }
  void start() { reporter_->start(); }
  void stop() { reporter_->stop(); }

  // The node id: the variable named by node_id_env, else the host name.
  static std::string nodeId(const config::ControlPlaneConfig& config);

 private:
  explicit ControlPlaneTelemetry(telemetry::Stats& metrics) : fanout_(metrics, collector_) {}

  TelemetryCollector collector_;
  FanOutStats fanout_;
  std::unique_ptr<TelemetryReporter> reporter_;
};

}  // namespace llmgate::proxy::control
