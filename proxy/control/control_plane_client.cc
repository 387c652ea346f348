#include "proxy/control/control_plane_client.h"

#include <chrono>

#include "common/log/log.h"
#include "common/time/clock.h"
#include "proxy/control/routes_json.h"

namespace llmgate::proxy::control {

ControlPlaneClient::ControlPlaneClient(config::Config file_config, ControlPlaneHooks hooks)
    : settings_(file_config.control_plane),
      hooks_(std::move(hooks)),
      table_(std::move(file_config), [this](std::shared_ptr<const config::Config> next) {
        published(*next);
        hooks_.publish(std::move(next));
      }) {
  if (hooks_.registry != nullptr) {
    swaps_ = &prometheus::BuildCounter()
                  .Name("llmgate_route_swaps_total")
                  .Help(
                      "Route tables published to the workers (config reloads, control-plane "
                      "snapshots, the cache file at startup).")
                  .Register(*hooks_.registry)
                  .Add({});
    if (settings_) {
      nacks_ = &prometheus::BuildCounter()
                    .Name("llmgate_control_nacks_total")
                    .Help("Control-plane snapshots refused (NACKed); the previous table kept.")
                    .Register(*hooks_.registry)
                    .Add({});
    }
  }
  if (!settings_ || settings_->cache_file.empty()) return;
  absl::StatusOr<RouteSubscriber::Snapshot> cached = readCacheFile(settings_->cache_file);
  if (!cached.ok()) {
    if (!absl::IsNotFound(cached.status())) {
      log::warn("control plane: route cache ignored: ", std::string(cached.status().message()));
    }
  } else if (absl::Status s = table_.applySnapshot(*cached, RouteSource::kCacheFile); !s.ok()) {
    log::warn("control plane: route cache ", settings_->cache_file, " (version ", cached->version(),
              ") does not fit this config, ignored: ", std::string(s.message()));
  } else {
    log::info("control plane: serving route table version ", cached->version(), " from ",
              settings_->cache_file, " until the control plane answers");
  }
  cache_writer_ = std::make_unique<CacheWriter>(settings_->cache_file);
}

ControlPlaneClient::~ControlPlaneClient() { stop(); }

absl::Status ControlPlaneClient::start() {
  if (!settings_) return absl::OkStatus();
  SubscriberOptions options;
  options.address = settings_->address;
  options.node_id = nodeId(settings_->node_id_env);
  options.build_version = LLMGATE_VERSION;
  if (settings_->token && !settings_->token->empty()) options.token = settings_->token->value;
  options.tls = settings_->tls;
  options.backoff_max = settings_->reconnect_max;
  options.keepalive_time = settings_->keepalive_time;
  options.keepalive_timeout = settings_->keepalive_timeout;
  if (hooks_.connected) hooks_.connected(false);
  subscriber_ = std::make_unique<RouteSubscriber>(
      std::move(options),
      [this](const RouteSubscriber::Snapshot& snapshot) {
        absl::Status s = table_.applySnapshot(snapshot, RouteSource::kControlPlane);
        if (s.ok() && cache_writer_) cache_writer_->write(snapshot);
        if (!s.ok() && nacks_ != nullptr) nacks_->Increment();
        return s;
      },
      [this] { return table_.version(); },
      [this](bool connected) {
        if (hooks_.connected) hooks_.connected(connected);
      });
  log::info("control plane: subscribing to ", settings_->address, " as node ",
            nodeId(settings_->node_id_env));
  return subscriber_->start();
}

void ControlPlaneClient::stop() {
  if (subscriber_) subscriber_->stop();
}

absl::Status ControlPlaneClient::reloadFile(config::Config file_config) {
  const auto& next = file_config.control_plane;
  const bool same =
      next.has_value() == settings_.has_value() &&
      (!next || (next->address == settings_->address && next->cache_file == settings_->cache_file &&
                 next->node_id_env == settings_->node_id_env));
  if (!same) {
    log::warn(
        "SIGHUP: control_plane settings changed in the file; they take effect at the next "
        "restart");
  }
  return table_.reloadFile(std::move(file_config));
}

std::string ControlPlaneClient::routesJson() const {
  std::optional<ControlPlaneView> view;
  if (settings_) {
    view.emplace();
    view->address = settings_->address;
    if (subscriber_) {
      const SubscriberStatus status = subscriber_->status();
      view->connected = status.connected;
      view->last_error = status.last_error;
    }
  }
  return control::routesJson(*table_.current(), toString(table_.source()), view, time::systemNow());
}

void ControlPlaneClient::published(const config::Config& config) {
  if (swaps_ != nullptr) swaps_->Increment();
  updateGauges(config);
}

void ControlPlaneClient::refreshOverrideGauges() { updateGauges(*table_.current()); }

void ControlPlaneClient::updateGauges(const config::Config& config) {
  if (!hooks_.override_gauge) return;
  const auto now = time::systemNow();
  std::set<std::pair<std::string, std::string>> now_active;
  for (const config::RouteOverride& o : config.overrides) {
    if (o.action == config::RouteOverride::Action::kDrain) continue;
    if (o.expires_at && *o.expires_at <= now) continue;
    now_active.emplace(o.subject, o.to);
  }
  std::lock_guard lock(gauges_mu_);
  for (const auto& [model, target] : active_gauges_) {
    if (!now_active.contains({model, target})) hooks_.override_gauge(model, target, false);
  }
  for (const auto& [model, target] : now_active) hooks_.override_gauge(model, target, true);
  active_gauges_ = std::move(now_active);
}

}  // namespace llmgate::proxy::control
