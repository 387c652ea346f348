// What the webhook adds to a pod: the llmgate container (native sidecar or
// regular container), its volumes and the pod annotations. The names here
// are a contract with deploy/ and docs/KUBERNETES.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "boost/json/object.hpp"
#include "boost/json/value.hpp"
#include "common/config/control_loader.h"
#include "control/webhook/pod_view.h"

namespace llmgate::control::webhook {

inline constexpr std::string_view kContainerName = "llmgate";
inline constexpr std::string_view kInjectAnnotation = "llmgate.io/inject";
inline constexpr std::string_view kInjectedAnnotation = "llmgate.io/injected";
inline constexpr std::string_view kModeAnnotation = "llmgate.io/sidecar-mode";
inline constexpr std::string_view kCpuRequestAnnotation = "llmgate.io/cpu-request";
inline constexpr std::string_view kMemoryRequestAnnotation = "llmgate.io/memory-request";
inline constexpr std::string_view kCpuLimitAnnotation = "llmgate.io/cpu-limit";
inline constexpr std::string_view kMemoryLimitAnnotation = "llmgate.io/memory-limit";
inline constexpr std::string_view kConfigVolume = "llmgate-config";
inline constexpr std::string_view kDataVolume = "llmgate-data";
inline constexpr std::string_view kConfigDir = "/etc/llmgate";
inline constexpr std::string_view kConfigFile = "/etc/llmgate/llmgate.yaml";
inline constexpr std::string_view kDataDir = "/var/lib/llmgate";
inline constexpr std::string_view kBinary = "/usr/local/bin/llmgate";
inline constexpr int kAppPort = 8080;
inline constexpr int kAdminPort = 9901;

enum class SidecarMode { kNative, kContainer };

// Per-pod choices: the config's defaults, overridden by the pod's annotations.
struct SidecarOptions {
  SidecarMode mode = SidecarMode::kNative;
  std::string cpu_request;
  std::string memory_request;
  std::string cpu_limit;
  std::string memory_limit;
  std::string config_volume;  // kConfigVolume, or a free variant if the pod uses that name
  std::string data_volume;
};

// Reads the llmgate.io/* annotations of `pod` over `config`. An unusable
// value keeps the default and adds a warning (shown by kubectl); a request
// above its limit raises the limit, with a warning, so the patched pod
// stays valid.
SidecarOptions sidecarOptions(const PodView& pod, const config::InjectionConfig& config,
                              std::vector<std::string>& warnings);

// The llmgate container. Native mode adds restartPolicy: Always (a native
// sidecar in initContainers, Kubernetes >= 1.29). Unless
// config.secret_name is empty, envFrom the Secret of that name in the pod's
// namespace, optional (provider keys and the node token the sidecar's
// config names with *_env).
boost::json::object sidecarContainer(const config::InjectionConfig& config,
                                     const SidecarOptions& options);

// The pod's terminationGracePeriodSeconds injection wants (the config's
// termination_grace_period rounded up to whole seconds): the pod's value is
// raised to it when absent or lower, never lowered.
std::int64_t terminationGraceSeconds(const config::InjectionConfig& config);

// The config (ConfigMap) and data (emptyDir) volumes.
std::vector<boost::json::value> sidecarVolumes(const config::InjectionConfig& config,
                                               const SidecarOptions& options);

// The pod annotations injection sets: the llmgate.io/injected marker, and
// prometheus.io/{scrape,port,path} unless the pod already has one of them
// (its own metrics: then they are kept and a warning says so).
boost::json::object sidecarAnnotations(const PodView& pod, std::vector<std::string>& warnings);

}  // namespace llmgate::control::webhook
