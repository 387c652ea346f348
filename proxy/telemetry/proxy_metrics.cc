#include "proxy/telemetry/proxy_metrics.h"

#include <sstream>

#include "prometheus/text_serializer.h"

namespace llmgate::proxy::telemetry {
namespace {

prometheus::Gauge& gauge(prometheus::Registry& registry, const std::string& name,
                         const std::string& help, const prometheus::Labels& labels = {}) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(registry).Add(labels);
}

}  // namespace

ProxyMetrics::ProxyMetrics(const server::ServerState& state)
    : state_(state),
      registry_(std::make_shared<prometheus::Registry>()),
      inflight_(gauge(*registry_, "llmgate_inflight_requests",
                      "Client requests being handled right now.")),
      connections_(gauge(*registry_, "llmgate_open_connections",
                         "Client connections open on the traffic listener.")),
      ready_(gauge(*registry_, "llmgate_ready", "1 when /readyz answers 200.")) {
  gauge(*registry_, "llmgate_build_info", "Build information; the value is always 1.",
        {{"version", LLMGATE_VERSION}})
      .Set(1);
}

std::string ProxyMetrics::scrape() {
  inflight_.Set(static_cast<double>(state_.inflight_requests.load(std::memory_order_relaxed)));
  connections_.Set(static_cast<double>(state_.open_connections.load(std::memory_order_relaxed)));
  ready_.Set(state_.ready.load() && !state_.draining.load() ? 1 : 0);
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, registry_->Collect());
  return out.str();
}

}  // namespace llmgate::proxy::telemetry
