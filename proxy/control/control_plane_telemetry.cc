#include "proxy/control/control_plane_telemetry.h"

#include <unistd.h>

#include <cstdlib>
#include <utility>

namespace llmgate::proxy::control {

std::string ControlPlaneTelemetry::nodeId(const config::ControlPlaneConfig& config) {
  if (!config.node_id_env.empty()) {
    if (const char* value = std::getenv(config.node_id_env.c_str()); value && *value) return value;
  }
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) == 0 && host[0] != '\0') return host;
  return "llmgate";
}

absl::StatusOr<std::unique_ptr<ControlPlaneTelemetry>> ControlPlaneTelemetry::create(
    const config::ControlPlaneConfig& config, telemetry::Stats& metrics,
    prometheus::Registry& registry, std::function<std::string()> route_version) {
  std::unique_ptr<ControlPlaneTelemetry> self(new ControlPlaneTelemetry(metrics));
  TelemetryReporterOptions options;
  options.address = config.address;
  options.token = config.token ? config.token->value : std::string();
  options.node_id = nodeId(config);
  options.interval = std::chrono::duration_cast<std::chrono::milliseconds>(config.report_interval);
  if (options.interval.count() <= 0) options.interval = std::chrono::milliseconds(5000);
  options.tls = config.tls;
  options.route_version = std::move(route_version);
  auto reporter = TelemetryReporter::create(std::move(options), self->collector_, &registry);
  if (!reporter.ok()) return reporter.status();
  self->reporter_ = std::move(*reporter);
  return self;
}

}  // namespace llmgate::proxy::control
