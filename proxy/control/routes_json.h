// The admin listener's `/routes`: the table the proxy serves right now.
#pragma once

#include <optional>
#include <string>

#include "common/config/schema.h"

namespace llmgate::proxy::control {

struct ControlPlaneView {
  std::string address;
  bool connected = false;
  std::string last_error;
};

// {"version", "source", "models", "routes" (each rule as config::routeRuleJson:
// every condition it sets, targets or split), "overrides" (with expires_at and
// "expired"), "control_plane": {address, connected, last_error} or null}.
// Providers, secrets and URLs never appear. `now` judges expiry.
std::string routesJson(const config::Config& config, std::string_view source,
                       const std::optional<ControlPlaneView>& control_plane,
                       std::chrono::system_clock::time_point now);

}  // namespace llmgate::proxy::control
