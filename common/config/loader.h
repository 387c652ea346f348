// Loads and validates llmgate's YAML configuration. yaml-cpp stays behind
// this header: nothing outside common/config/ includes it.
#pragma once

#include <boost/json/object.hpp>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config/schema.h"

namespace llmgate::config {

// Reads an environment variable; injectable so tests control secrets.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
EnvLookup processEnv();

// Parses and validates a whole config. On failure the status is
// InvalidArgument and its message holds one line per problem, each starting
// with the key path: `models[2].price_per_mtok.input: expected a number, got "cheap"`.
// `base_dir` resolves relative paths (the config file's folder).
absl::StatusOr<Config> loadConfigString(std::string_view yaml, std::string_view source,
                                        const EnvLookup& env = processEnv(),
                                        std::string_view base_dir = ".");
absl::StatusOr<Config> loadConfigFile(const std::string& path, const EnvLookup& env = processEnv());

// `models:` and `routes:` alone, with the same keys and checks as in a full
// config except that a model's `provider` is not looked up (the control
// plane's routes_file: providers stay in each proxy's own config).
struct ModelsAndRoutes {
  std::vector<ModelConfig> models;
  std::vector<RouteConfig> routes;
};
absl::StatusOr<ModelsAndRoutes> loadModelsAndRoutesString(std::string_view yaml,
                                                          std::string_view source);
// The same, for a control-plane snapshot on a proxy (YAML or JSON with the
// config's keys): every model's `provider` must name one of `providers`
// (`models[1].provider: unknown provider "x"`).
absl::StatusOr<ModelsAndRoutes> loadModelsAndRoutesString(
    std::string_view yaml, std::string_view source, const std::vector<ProviderConfig>& providers);

// The built-in config used when llmgate starts without --config: one
// OpenAI-style provider on 127.0.0.1:18999 (the demo fakellm), offline.
std::string_view embeddedDefaultConfig();

// The effective config as pretty JSON for the admin `/config` endpoint:
// every secret is shown as "***" next to its env var name, never its value.
std::string effectiveConfigJson(const Config& config);

// A rule's `when` as written (only the conditions it sets), for /config and
// GET /v1/models.
boost::json::object routeMatchJson(const RouteMatch& match);
// A rule as written: {"when", "targets"} or {"when", "split": [{weight,
// targets}]}, for /config and the proxy's /routes.
boost::json::object routeRuleJson(const RouteRule& rule);

}  // namespace llmgate::config
