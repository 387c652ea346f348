// The one object proxy/main.cc builds for the control plane (issue 7, proxy
// side). Without `control_plane:` it only routes SIGHUP reloads to `publish`
// and answers /routes; nothing starts. With it:
//  - construction serves control_plane.cache_file (when present and valid)
//    before any connection (R25-R27);
//  - start() subscribes (RouteSubscriber); every valid snapshot is published
//    as one new config and then written to the cache file on a background
//    thread; an invalid one is NACKed and the previous table keeps serving.
#pragma once

#include <functional>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <utility>

#include "absl/status/status.h"
#include "common/config/schema.h"
#include "prometheus/counter.h"
#include "prometheus/registry.h"
#include "proxy/control/route_cache_file.h"
#include "proxy/control/route_subscriber.h"
#include "proxy/control/route_table.h"

namespace llmgate::proxy::control {

struct ControlPlaneHooks {
  // Hands a complete config to every worker (main's GatewaySnapshot path).
  std::function<void(std::shared_ptr<const config::Config>)> publish;
  // llmgate_control_connected.
  std::function<void(bool connected)> connected;
  // llmgate_route_overrides{model, target}.
  std::function<void(std::string_view model, std::string_view target, bool active)> override_gauge;
  // Where llmgate_route_swaps_total and llmgate_control_nacks_total go
  // (optional; must outlive the client).
  prometheus::Registry* registry = nullptr;
};

class ControlPlaneClient {
 public:
  ControlPlaneClient(config::Config file_config, ControlPlaneHooks hooks);
  ~ControlPlaneClient();  // stop()

  // Subscribes when `control_plane:` is configured; a no-op otherwise.
  absl::Status start();
  void stop();

  // SIGHUP: the new file config, with the current snapshot applied on top.
  absl::Status reloadFile(config::Config file_config);

  // The admin `/routes` body.
  std::string routesJson() const;

  // Sets llmgate_route_overrides to 0 for overrides that expired since the
  // last publish (called at each /metrics scrape).
  void refreshOverrideGauges();

  const RouteTable& table() const { return table_; }

 private:
  void published(const config::Config& config);
  void updateGauges(const config::Config& config);

  std::optional<config::ControlPlaneConfig> settings_;
  ControlPlaneHooks hooks_;
  std::mutex gauges_mu_;
  std::set<std::pair<std::string, std::string>> active_gauges_;
  RouteTable table_;
  std::unique_ptr<CacheWriter> cache_writer_;
  std::unique_ptr<RouteSubscriber> subscriber_;
  prometheus::Counter* swaps_ = nullptr;  // tables published
  prometheus::Counter* nacks_ = nullptr;  // snapshots refused (with a control plane only)
};

}  // namespace llmgate::proxy::control
