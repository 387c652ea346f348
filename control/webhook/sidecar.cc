#include "control/webhook/sidecar.h"

#include <chrono>
#include <optional>

#include "boost/json/array.hpp"
#include "common/config/k8s_quantity.h"
#include "common/text/str_cat.h"

namespace llmgate::control::webhook {
namespace {

namespace json = boost::json;

// The annotation's value if it is a valid quantity; else the default (and a
// warning if the annotation was set).
std::string quantity(const PodView& pod, std::string_view annotation, const std::string& fallback,
                     std::vector<std::string>& warnings) {
  std::optional<std::string_view> value = pod.annotation(annotation);
  if (!value) return fallback;
  if (!config::parseK8sQuantity(*value)) {
    warnings.push_back(strCat("llmgate: annotation ", annotation, ": \"", value->substr(0, 40),
                              "\" is not a Kubernetes quantity; using ", fallback));
    return fallback;
  }
  return std::string(*value);
}

// Raises `limit` to `request` when the request exceeds it.
void keepRequestWithinLimit(std::string_view resource, const std::string& request,
                            std::string& limit, std::vector<std::string>& warnings) {
  if (*config::parseK8sQuantity(request) <= *config::parseK8sQuantity(limit)) return;
  warnings.push_back(strCat("llmgate: ", resource, " request ", request, " exceeds the limit ",
                            limit, "; the limit is raised to ", request));
  limit = request;
}

std::string freeVolumeName(const PodView& pod, std::string_view base) {
  std::string name(base);
  for (int suffix = 1; pod.hasVolume(name); ++suffix) name = strCat(base, "-", suffix);
  return name;
}

json::object httpProbe(std::string_view path, int period, int failures) {
  return json::object{
      {"httpGet", json::object{{"path", path}, {"port", kAdminPort}, {"scheme", "HTTP"}}},
      {"periodSeconds", period},
      {"timeoutSeconds", 2},
      {"failureThreshold", failures},
  };
}

json::object fieldEnv(std::string_view name, std::string_view field) {
  return json::object{
      {"name", name},
      {"valueFrom",
       json::object{{"fieldRef", json::object{{"apiVersion", "v1"}, {"fieldPath", field}}}}},
  };
}

}  // namespace

SidecarOptions sidecarOptions(const PodView& pod, const config::InjectionConfig& config,
                              std::vector<std::string>& warnings) {
  SidecarOptions options;
  if (std::optional<std::string_view> mode = pod.annotation(kModeAnnotation)) {
    if (*mode == "container") {
      options.mode = SidecarMode::kContainer;
    } else if (*mode != "native") {
      warnings.push_back(strCat("llmgate: annotation ", kModeAnnotation, ": \"",
                                mode->substr(0, 40),
                                "\" is not native or container; injecting a native sidecar"));
    }
  }
  options.cpu_request = quantity(pod, kCpuRequestAnnotation, config.cpu_request, warnings);
  options.memory_request = quantity(pod, kMemoryRequestAnnotation, config.memory_request, warnings);
  options.cpu_limit = quantity(pod, kCpuLimitAnnotation, config.cpu_limit, warnings);
  options.memory_limit = quantity(pod, kMemoryLimitAnnotation, config.memory_limit, warnings);
  keepRequestWithinLimit("cpu", options.cpu_request, options.cpu_limit, warnings);
  keepRequestWithinLimit("memory", options.memory_request, options.memory_limit, warnings);
  options.config_volume = freeVolumeName(pod, kConfigVolume);
  options.data_volume = freeVolumeName(pod, kDataVolume);
  return options;
}

json::object sidecarContainer(const config::InjectionConfig& config,
                              const SidecarOptions& options) {
  const auto sleep_seconds = std::max<std::int64_t>(
      0, std::chrono::ceil<std::chrono::seconds>(config.pre_stop_sleep).count());
  json::object container{
      {"name", kContainerName},
      {"image", config.image},
      {"imagePullPolicy", config.image_pull_policy},
      {"command", json::array{kBinary}},
      {"args", json::array{"--config", kConfigFile}},
      {"ports",
       json::array{
           json::object{{"name", "llmgate-http"}, {"containerPort", kAppPort}, {"protocol", "TCP"}},
           json::object{
               {"name", "llmgate-admin"}, {"containerPort", kAdminPort}, {"protocol", "TCP"}},
       }},
      {"env",
       json::array{
           fieldEnv("POD_NAME", "metadata.name"),
           fieldEnv("POD_NAMESPACE", "metadata.namespace"),
           json::object{{"name", "LLMGATE_CONTROL_ADDRESS"}, {"value", config.control_address}},
       }},
      {"resources",
       json::object{
           {"requests",
            json::object{{"cpu", options.cpu_request}, {"memory", options.memory_request}}},
           {"limits", json::object{{"cpu", options.cpu_limit}, {"memory", options.memory_limit}}},
       }},
      {"volumeMounts",
       json::array{
           json::object{
               {"name", options.config_volume}, {"mountPath", kConfigDir}, {"readOnly", true}},
           json::object{{"name", options.data_volume}, {"mountPath", kDataDir}},
       }},
      // Until the startup probe passes, the kubelet starts no later container
      // (native mode), so the app never calls 127.0.0.1:8080 too early.
      {"startupProbe", httpProbe("/readyz", 1, 60)},
      {"livenessProbe", httpProbe("/healthz", 10, 3)},
      {"readinessProbe", httpProbe("/readyz", 5, 2)},
      {"lifecycle",
       json::object{
           {"preStop",
            json::object{
                {"exec", json::object{{"command", json::array{"/bin/sh", "-c",
                                                              strCat("sleep ", sleep_seconds)}}}}}},
       }},
      {"securityContext",
       json::object{
           {"runAsNonRoot", true},
           {"runAsUser", config.run_as_user},
           {"runAsGroup", config.run_as_user},
           {"allowPrivilegeEscalation", false},
           {"readOnlyRootFilesystem", true},
           {"capabilities", json::object{{"drop", json::array{"ALL"}}}},
           {"seccompProfile", json::object{{"type", "RuntimeDefault"}}},
       }},
      {"terminationMessagePolicy", "FallbackToLogsOnError"},
  };
  if (!config.secret_name.empty()) {
    container["envFrom"] = json::array{json::object{
        {"secretRef", json::object{{"name", config.secret_name}, {"optional", true}}},
    }};
  }
  if (options.mode == SidecarMode::kNative) container["restartPolicy"] = "Always";
  return container;
}

std::int64_t terminationGraceSeconds(const config::InjectionConfig& config) {
  return std::max<std::int64_t>(
      1, std::chrono::ceil<std::chrono::seconds>(config.termination_grace_period).count());
}

std::vector<json::value> sidecarVolumes(const config::InjectionConfig& config,
                                        const SidecarOptions& options) {
  return {
      json::object{{"name", options.config_volume},
                   {"configMap", json::object{{"name", config.config_map}}}},
      json::object{{"name", options.data_volume},
                   {"emptyDir", json::object{{"sizeLimit", "64Mi"}}}},
  };
}

json::object sidecarAnnotations(const PodView& pod, std::vector<std::string>& warnings) {
  json::object annotations{{kInjectedAnnotation, "true"}};
  if (pod.annotation("prometheus.io/scrape") || pod.annotation("prometheus.io/port") ||
      pod.annotation("prometheus.io/path")) {
    warnings.push_back(
        "llmgate: the pod's own prometheus.io annotations are kept; llmgate's metrics are on "
        "port 9901 (llmgate-admin), /metrics");
    return annotations;
  }
  annotations["prometheus.io/scrape"] = "true";
  annotations["prometheus.io/port"] = std::to_string(kAdminPort);
  annotations["prometheus.io/path"] = "/metrics";
  return annotations;
}

}  // namespace llmgate::control::webhook
