// Loads and validates llmgate-control's YAML configuration (../shared/DESIGN.md,
// "Control plane"). Same rules as the proxy's loader: every problem is
// reported with its key path, relative paths are relative to the config
// file's folder, secrets come from environment variables only.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config/loader.h"
#include "common/config/schema.h"

namespace llmgate::config {

// One entry of `policies:`: when to shift a model's traffic away.
struct PolicyConfig {
  std::string model;
  std::optional<Duration> p95_latency_max;
  std::optional<Duration> ttft_p95_max;
  std::optional<double> error_rate_max;  // [0, 1]
  std::uint64_t min_samples = 1;         // 0 in the file reads as 1
  std::string shift_to;
  Duration shift_for{};
  double probe_percent = 0;  // [0, 100)

  bool operator==(const PolicyConfig&) const = default;
};

struct MetricsSourceConfig {
  std::string kind = "proxies";  // proxies | prometheus
  std::string url;               // prometheus: "http://host:port[/prefix]"
};

// `injection:`: what the sidecar-injection webhook adds to a pod
// (docs/KUBERNETES.md). Resource quantities are Kubernetes quantities
// ("100m", "128Mi"), checked by the loader.
struct InjectionConfig {
  std::string image = "llmgate/llmgate:0.1.0";
  std::string image_pull_policy = "IfNotPresent";
  std::string control_address = "llmgate-control.llmgate-system.svc:50051";
  std::string config_map = "llmgate-sidecar-config";
  std::string cpu_request = "100m";
  std::string memory_request = "128Mi";
  std::string cpu_limit = "1";
  std::string memory_limit = "256Mi";
  Duration pre_stop_sleep = std::chrono::seconds(5);
  std::int64_t run_as_user = 65532;
  // envFrom of the injected container (provider keys, node token), optional
  // in the pod's namespace; empty: no envFrom.
  std::string secret_name = "llmgate-sidecar-secrets";
  // The pod's terminationGracePeriodSeconds is raised to this (never
  // lowered): preStop sleep + the sidecar's drain_timeout + ~2 s.
  Duration termination_grace_period = std::chrono::seconds(40);

  bool operator==(const InjectionConfig&) const = default;
};

struct ControlConfig {
  std::string listen = "0.0.0.0:50051";
  std::string admin_listen;  // HTTP /metrics /healthz /readyz; empty: off
  // HTTPS /mutate; served only when webhook_tls is set.
  std::string webhook_listen = "0.0.0.0:8443";
  std::optional<TlsFiles> tls;          // gRPC mTLS: all three files required
  std::optional<TlsFiles> webhook_tls;  // cert_file and key_file (ca_file unused)
  InjectionConfig injection;
  std::string admin_token_env = "LLMGATE_ADMIN_TOKEN";
  std::optional<Secret> admin_token;  // unset when the variable is unset or empty
  std::string node_token_env;         // empty: proxies need no token
  std::optional<Secret> node_token;
  std::string state_file;   // empty: operator state is not persisted
  std::string routes_file;  // empty: no models, no routes
  std::vector<ModelConfig> models;
  std::vector<RouteConfig> routes;
  MetricsSourceConfig metrics_source;
  Duration window = std::chrono::seconds(60);
  Duration evaluate_every = std::chrono::seconds(5);
  // The shortest interval between a client's HTTP/2 pings without data that
  // the gRPC server accepts (proxies' control_plane.keepalive_time, R33).
  Duration min_client_ping_interval = std::chrono::seconds(10);
  std::vector<PolicyConfig> policies;
  std::string source;

  const ModelConfig* findModel(std::string_view name) const;
};

// Checks one policy against the models (`path` prefixes each problem, as
// "policies[0]"). Used by the loader and by Admin.SetThresholds.
std::vector<std::string> validatePolicy(const PolicyConfig& policy,
                                        const std::vector<ModelConfig>& models,
                                        std::string_view path);

absl::StatusOr<ControlConfig> loadControlConfigString(std::string_view yaml,
                                                      std::string_view source,
                                                      const EnvLookup& env = processEnv(),
                                                      std::string_view base_dir = ".");
absl::StatusOr<ControlConfig> loadControlConfigFile(const std::string& path,
                                                    const EnvLookup& env = processEnv());

}  // namespace llmgate::config
