// The injection webhook against real AdmissionReview v1 fixtures
// (tests/data/admission/): each patch is applied to the pod as sent with the
// RFC 6902 applier of json_patch_applier.h and the resulting pod is checked.
#include "control/webhook/admission_review.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "control/webhook/base64.h"
#include "control/webhook/json_patch.h"
#include "tests/unit/control/webhook/json_patch_applier.h"

namespace llmgate::control::webhook {
namespace {

namespace json = boost::json;
using testing::applyJsonPatch;
using testing::base64Decode;
using ::testing::HasSubstr;

std::string fixture(const std::string& name) {
  std::ifstream in(std::string(LLMGATE_ADMISSION_DIR) + "/" + name, std::ios::binary);
  EXPECT_TRUE(in) << "missing fixture " << name;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The review's outcome plus the pod before and after the patch.
struct Reviewed {
  AdmissionResult result;
  json::object response;  // response.response
  json::value pod_before;
  json::value pod_after;  // == pod_before when there is no patch
  json::array patch;
};

Reviewed review(const std::string& name, const config::InjectionConfig& config = {}) {
  Reviewed r;
  const std::string body = fixture(name);
  r.result = reviewAdmission(body, config);
  json::value response = json::parse(r.result.response);
  EXPECT_EQ(response.at("apiVersion").as_string(), "admission.k8s.io/v1");
  EXPECT_EQ(response.at("kind").as_string(), "AdmissionReview");
  r.response = response.at("response").as_object();
  EXPECT_EQ(r.response.at("allowed").as_bool(), true) << name;
  EXPECT_EQ(std::string(r.response.at("uid").as_string()), r.result.uid);
  if (r.result.outcome == AdmissionOutcome::kMalformed) return r;
  r.pod_before = json::parse(body).at("request").at("object");
  r.pod_after = r.pod_before;
  if (r.response.contains("patch")) {
    EXPECT_EQ(r.response.at("patchType").as_string(), "JSONPatch");
    const std::string decoded = base64Decode(r.response.at("patch").as_string());
    EXPECT_EQ(decoded, r.result.patch);
    r.patch = json::parse(decoded).as_array();
    absl::StatusOr<json::value> applied = applyJsonPatch(r.pod_before, r.patch);
    EXPECT_TRUE(applied.ok()) << name << ": " << applied.status() << "\npatch: " << decoded;
    if (applied.ok()) r.pod_after = std::move(*applied);
  } else {
    EXPECT_FALSE(r.response.contains("patchType")) << name;
  }
  return r;
}

const json::array& listOr(const json::value& pod, std::string_view key) {
  static const json::array kEmpty;
  const json::value* v = pod.at("spec").as_object().if_contains(key);
  return v != nullptr && v->is_array() ? v->get_array() : kEmpty;
}

// All containers and init containers named llmgate.
std::vector<json::object> sidecars(const json::value& pod) {
  std::vector<json::object> out;
  for (std::string_view key : {"containers", "initContainers"}) {
    for (const json::value& c : listOr(pod, key)) {
      if (c.at("name").as_string() == "llmgate") out.push_back(c.as_object());
    }
  }
  return out;
}

const json::object* findNamed(const json::array& list, std::string_view name) {
  for (const json::value& item : list) {
    if (item.at("name").as_string() == name) return &item.as_object();
  }
  return nullptr;
}

std::string annotation(const json::value& pod, std::string_view key) {
  const json::value* v = pod.at("metadata").as_object().if_contains("annotations");
  if (v == nullptr || !v->is_object()) return "<no annotations>";
  const json::value* a = v->as_object().if_contains(key);
  return a == nullptr ? "<absent>" : std::string(a->as_string());
}

// spec.terminationGracePeriodSeconds; -1 when absent or null.
std::int64_t graceSeconds(const json::value& pod) {
  const json::value* v = pod.at("spec").as_object().if_contains("terminationGracePeriodSeconds");
  return v == nullptr || v->is_null() ? -1 : v->as_int64();
}

// The operations of `patch` on `path`.
std::vector<json::object> opsOn(const json::array& patch, std::string_view path) {
  std::vector<json::object> out;
  for (const json::value& op : patch) {
    if (op.at("path").as_string() == path) out.push_back(op.as_object());
  }
  return out;
}

// The checks every injected pod passes.
void expectInjected(const Reviewed& r, bool native) {
  ASSERT_EQ(r.result.outcome, AdmissionOutcome::kInjected) << r.result.reason;
  std::vector<json::object> found = sidecars(r.pod_after);
  ASSERT_EQ(found.size(), 1u) << json::serialize(r.pod_after);
  const json::object& sidecar = found[0];
  const json::array& init = listOr(r.pod_after, "initContainers");
  const json::array& containers = listOr(r.pod_after, "containers");
  if (native) {
    ASSERT_NE(findNamed(init, "llmgate"), nullptr);
    EXPECT_EQ(sidecar.at("restartPolicy").as_string(), "Always");
    // Appended after the pod's own init containers.
    EXPECT_EQ(init.back().at("name").as_string(), "llmgate");
  } else {
    ASSERT_NE(findNamed(containers, "llmgate"), nullptr);
    EXPECT_FALSE(sidecar.contains("restartPolicy"));
    EXPECT_EQ(containers.back().at("name").as_string(), "llmgate");
  }
  // The app's containers and init containers are untouched, in order.
  const json::array& before_containers = listOr(r.pod_before, "containers");
  for (std::size_t i = 0; i < before_containers.size(); ++i) {
    EXPECT_EQ(containers.at(i), before_containers.at(i));
  }
  EXPECT_EQ(containers.size(), before_containers.size() + (native ? 0 : 1));
  const json::array& before_init = listOr(r.pod_before, "initContainers");
  for (std::size_t i = 0; i < before_init.size(); ++i) EXPECT_EQ(init.at(i), before_init.at(i));
  EXPECT_EQ(init.size(), before_init.size() + (native ? 1 : 0));
  // Volumes: the pod's own kept, the config ConfigMap and the data emptyDir added.
  const json::array& volumes = listOr(r.pod_after, "volumes");
  const json::array& before_volumes = listOr(r.pod_before, "volumes");
  ASSERT_EQ(volumes.size(), before_volumes.size() + 2);
  for (std::size_t i = 0; i < before_volumes.size(); ++i) {
    EXPECT_EQ(volumes.at(i), before_volumes.at(i));
  }
  const json::array& mounts = sidecar.at("volumeMounts").as_array();
  const json::object* config_mount = nullptr;
  for (const json::value& m : mounts) {
    if (m.at("mountPath").as_string() == "/etc/llmgate") config_mount = &m.as_object();
  }
  ASSERT_NE(config_mount, nullptr);
  EXPECT_EQ(config_mount->at("readOnly").as_bool(), true);
  const json::object* config_volume =
      findNamed(volumes, std::string_view(config_mount->at("name").as_string()));
  ASSERT_NE(config_volume, nullptr);
  EXPECT_EQ(config_volume->at("configMap").at("name").as_string(), "llmgate-sidecar-config");
  // Every mount names a volume of the pod.
  for (const json::value& m : mounts) {
    EXPECT_NE(findNamed(volumes, std::string_view(m.at("name").as_string())), nullptr);
  }
  // Env: POD_NAME from the downward API, the control-plane address.
  const json::array& env = sidecar.at("env").as_array();
  const json::object* pod_name = findNamed(env, "POD_NAME");
  ASSERT_NE(pod_name, nullptr);
  EXPECT_EQ(pod_name->at("valueFrom").at("fieldRef").at("fieldPath").as_string(), "metadata.name");
  const json::object* address = findNamed(env, "LLMGATE_CONTROL_ADDRESS");
  ASSERT_NE(address, nullptr);
  EXPECT_EQ(address->at("value").as_string(), "llmgate-control.llmgate-system.svc:50051");
  // Probes on the admin port.
  EXPECT_EQ(sidecar.at("livenessProbe").at("httpGet").at("path").as_string(), "/healthz");
  EXPECT_EQ(sidecar.at("livenessProbe").at("httpGet").at("port").as_int64(), 9901);
  EXPECT_EQ(sidecar.at("readinessProbe").at("httpGet").at("path").as_string(), "/readyz");
  EXPECT_EQ(sidecar.at("readinessProbe").at("httpGet").at("port").as_int64(), 9901);
  // preStop drain, ports, security context.
  const json::array& pre_stop =
      sidecar.at("lifecycle").at("preStop").at("exec").at("command").as_array();
  EXPECT_EQ(pre_stop.back().as_string(), "sleep 5");
  EXPECT_EQ(sidecar.at("ports").as_array().size(), 2u);
  EXPECT_EQ(sidecar.at("ports").at(0).at("containerPort").as_int64(), 8080);
  EXPECT_EQ(sidecar.at("ports").at(1).at("containerPort").as_int64(), 9901);
  const json::object& security = sidecar.at("securityContext").as_object();
  EXPECT_EQ(security.at("runAsNonRoot").as_bool(), true);
  EXPECT_EQ(security.at("readOnlyRootFilesystem").as_bool(), true);
  EXPECT_EQ(security.at("allowPrivilegeEscalation").as_bool(), false);
  EXPECT_EQ(security.at("capabilities").at("drop").at(0).as_string(), "ALL");
  EXPECT_EQ(sidecar.at("args").at(1).as_string(), "/etc/llmgate/llmgate.yaml");
  // Annotations: the marker; the pod's own annotations kept.
  EXPECT_EQ(annotation(r.pod_after, "llmgate.io/injected"), "true");
  const json::object& before_annotations =
      r.pod_before.at("metadata").at("annotations").as_object();
  for (const auto& member : before_annotations) {
    EXPECT_EQ(annotation(r.pod_after, std::string_view(member.key())),
              std::string(member.value().as_string()));
  }
  // Secrets for the sidecar's *_env names: envFrom the optional Secret.
  ASSERT_TRUE(sidecar.contains("envFrom"));
  ASSERT_EQ(sidecar.at("envFrom").as_array().size(), 1u);
  const json::object& secret_ref = sidecar.at("envFrom").at(0).at("secretRef").as_object();
  EXPECT_EQ(secret_ref.at("name").as_string(), "llmgate-sidecar-secrets");
  EXPECT_EQ(secret_ref.at("optional").as_bool(), true);
  // The grace period holds preStop (5 s) + the default drain_timeout (30 s)
  // + ~2 s: raised to 40 unless the pod asked for more; never lowered.
  const std::int64_t grace_before = graceSeconds(r.pod_before);
  const std::int64_t grace_after = graceSeconds(r.pod_after);
  EXPECT_EQ(grace_after, std::max<std::int64_t>(grace_before, 40));
  EXPECT_GE(grace_after, 5 + 30 + 2);
  // Everything except spec.{containers,initContainers,volumes,
  // terminationGracePeriodSeconds} and annotations is unchanged.
  json::value before = r.pod_before;
  json::value after = r.pod_after;
  for (json::value* pod : {&before, &after}) {
    pod->at("metadata").as_object().erase("annotations");
    for (std::string_view key :
         {"containers", "initContainers", "volumes", "terminationGracePeriodSeconds"}) {
      pod->at("spec").as_object().erase(key);
    }
  }
  EXPECT_EQ(before, after);
  // Injecting the injected pod again changes nothing.
  json::value again = json::parse(fixture("annotated_pod.json"));
  again.at("request").as_object()["object"] = r.pod_after;
  AdmissionResult second = reviewAdmission(json::serialize(again), {});
  EXPECT_EQ(second.outcome, AdmissionOutcome::kAlreadyInjected);
  EXPECT_THAT(second.response, Not(HasSubstr("\"patch\"")));
}

TEST(AdmissionReviewTest, AnnotatedPodGetsNativeSidecar) {
  Reviewed r = review("annotated_pod.json");
  expectInjected(r, true);
  EXPECT_EQ(r.result.uid, "c1a5e7c2-0003-4f5e-9c3a-000000000003");
  EXPECT_EQ(r.result.pod, "shop/checkout-7c9f8d6b5-*");
  EXPECT_EQ(annotation(r.pod_after, "prometheus.io/scrape"), "true");
  EXPECT_EQ(annotation(r.pod_after, "prometheus.io/port"), "9901");
  EXPECT_EQ(annotation(r.pod_after, "prometheus.io/path"), "/metrics");
  EXPECT_FALSE(r.response.contains("warnings"));
  // No initContainers in the pod: one add of the whole array; volumes
  // present: an add at their end.
  ASSERT_GE(r.patch.size(), 2u);
  EXPECT_EQ(r.patch[0].at("path").as_string(), "/spec/initContainers");
  EXPECT_TRUE(r.patch[0].at("value").is_array());
  EXPECT_EQ(r.patch[1].at("path").as_string(), "/spec/volumes/-");
  const json::object sidecar = sidecars(r.pod_after).at(0);
  EXPECT_EQ(sidecar.at("image").as_string(), "llmgate/llmgate:0.1.0");
  EXPECT_EQ(sidecar.at("resources").at("requests").at("cpu").as_string(), "100m");
  EXPECT_EQ(sidecar.at("resources").at("requests").at("memory").as_string(), "128Mi");
  EXPECT_EQ(sidecar.at("resources").at("limits").at("cpu").as_string(), "1");
  EXPECT_EQ(sidecar.at("resources").at("limits").at("memory").as_string(), "256Mi");
  EXPECT_EQ(sidecar.at("startupProbe").at("httpGet").at("path").as_string(), "/readyz");
}

TEST(AdmissionReviewTest, PodWithoutVolumesGetsVolumeArray) {
  Reviewed r = review("annotated_no_volumes.json");
  expectInjected(r, true);
  EXPECT_EQ(r.patch[1].at("path").as_string(), "/spec/volumes");
}

TEST(AdmissionReviewTest, ExistingInitContainersAndVolumesAreAppendedTo) {
  Reviewed r = review("existing_init_and_volumes.json");
  expectInjected(r, true);
  EXPECT_EQ(r.patch[0].at("path").as_string(), "/spec/initContainers/-");
  const json::array& init = listOr(r.pod_after, "initContainers");
  ASSERT_EQ(init.size(), 2u);
  EXPECT_EQ(init[0].at("name").as_string(), "migrate");
}

TEST(AdmissionReviewTest, EmptyArraysAreAppendedTo) {
  Reviewed r = review("empty_arrays.json");
  expectInjected(r, true);
  EXPECT_EQ(r.patch[0].at("path").as_string(), "/spec/initContainers/-");
  EXPECT_EQ(listOr(r.pod_after, "volumes").size(), 2u);
}

TEST(AdmissionReviewTest, NullArraysAreReplaced) {
  Reviewed r = review("null_arrays.json");
  expectInjected(r, true);
  EXPECT_EQ(r.patch[0].at("path").as_string(), "/spec/initContainers");
}

TEST(AdmissionReviewTest, ContainerModeAddsARegularContainer) {
  Reviewed r = review("container_mode.json");
  expectInjected(r, false);
  EXPECT_EQ(r.patch[0].at("path").as_string(), "/spec/containers/-");
  // The pod's init container is left alone.
  EXPECT_EQ(listOr(r.pod_after, "initContainers").size(), 1u);
}

TEST(AdmissionReviewTest, AnnotationsOverrideResourcesWithWarnings) {
  Reviewed r = review("annotation_overrides.json");
  expectInjected(r, true);
  const json::object resources = sidecars(r.pod_after).at(0).at("resources").as_object();
  EXPECT_EQ(resources.at("requests").at("cpu").as_string(), "250m");
  EXPECT_EQ(resources.at("requests").at("memory").as_string(), "512Mi");
  EXPECT_EQ(resources.at("limits").at("cpu").as_string(), "1");  // "lots" is refused
  // The request above the default limit (256Mi) raises the limit.
  EXPECT_EQ(resources.at("limits").at("memory").as_string(), "512Mi");
  // The pod's own prometheus.io annotations are kept.
  EXPECT_EQ(annotation(r.pod_after, "prometheus.io/port"), "3000");
  EXPECT_EQ(annotation(r.pod_after, "prometheus.io/path"), "<absent>");
  // The key with / and ~ survives (it was not touched, but the marker's
  // pointer escape was exercised next to it).
  EXPECT_EQ(annotation(r.pod_after, "a/b~c"), "escaped key");
  ASSERT_TRUE(r.response.contains("warnings"));
  const std::string warnings = json::serialize(r.response.at("warnings"));
  EXPECT_THAT(warnings, HasSubstr("llmgate.io/cpu-limit"));
  EXPECT_THAT(warnings, HasSubstr("memory request 512Mi exceeds the limit 256Mi"));
  EXPECT_THAT(warnings, HasSubstr("prometheus.io annotations are kept"));
  EXPECT_EQ(r.response.at("warnings").as_array().size(), 3u);
}

TEST(AdmissionReviewTest, MarkerAnnotationsUseEscapedPointers) {
  Reviewed r = review("annotated_pod.json");
  bool found = false;
  for (const json::value& op : r.patch) {
    if (op.at("path").as_string() == "/metadata/annotations/llmgate.io~1injected") found = true;
  }
  EXPECT_TRUE(found) << json::serialize(r.patch);
}

TEST(AdmissionReviewTest, TakenVolumeNameGetsAFreeOne) {
  Reviewed r = review("volume_name_taken.json");
  expectInjected(r, true);
  const json::array& volumes = listOr(r.pod_after, "volumes");
  EXPECT_EQ(findNamed(volumes, "llmgate-config")->at("configMap").at("name").as_string(),
            "app-owned");
  ASSERT_NE(findNamed(volumes, "llmgate-config-1"), nullptr);
  EXPECT_EQ(findNamed(volumes, "llmgate-config-1")->at("configMap").at("name").as_string(),
            "llmgate-sidecar-config");
}

TEST(AdmissionReviewTest, ConfigChangesImageAddressAndDefaults) {
  config::InjectionConfig config;
  config.image = "registry.local/llmgate:9.9.9";
  config.control_address = "cp.example:7000";
  config.config_map = "custom-sidecar";
  config.memory_limit = "1Gi";
  config.pre_stop_sleep = std::chrono::seconds(12);
  Reviewed r = review("annotated_pod.json", config);
  ASSERT_EQ(r.result.outcome, AdmissionOutcome::kInjected);
  const json::object sidecar = sidecars(r.pod_after).at(0);
  EXPECT_EQ(sidecar.at("image").as_string(), "registry.local/llmgate:9.9.9");
  EXPECT_EQ(findNamed(sidecar.at("env").as_array(), "LLMGATE_CONTROL_ADDRESS")->at("value"),
            "cp.example:7000");
  EXPECT_EQ(sidecar.at("resources").at("limits").at("memory").as_string(), "1Gi");
  EXPECT_EQ(sidecar.at("lifecycle").at("preStop").at("exec").at("command").at(2), "sleep 12");
  EXPECT_NE(findNamed(listOr(r.pod_after, "volumes"), "llmgate-config"), nullptr);
  EXPECT_EQ(findNamed(listOr(r.pod_after, "volumes"), "llmgate-config")->at("configMap").at("name"),
            "custom-sidecar");
}

TEST(AdmissionReviewTest, LowerGracePeriodIsRaised) {
  // A ReplicaSet's pod carries the API server's default, 30 s: too short for
  // preStop 5 s + drain 30 s.
  Reviewed r = review("annotated_pod.json");
  expectInjected(r, true);
  EXPECT_EQ(graceSeconds(r.pod_before), 30);
  const std::vector<json::object> ops = opsOn(r.patch, "/spec/terminationGracePeriodSeconds");
  ASSERT_EQ(ops.size(), 1u) << json::serialize(r.patch);
  EXPECT_EQ(ops[0].at("op").as_string(), "replace");
  EXPECT_EQ(ops[0].at("value").as_int64(), 40);
  EXPECT_EQ(graceSeconds(r.pod_after), 40);
  // Every other operation is an add: nothing the author wrote is removed.
  for (const json::value& op : r.patch) {
    if (op.at("path").as_string() != "/spec/terminationGracePeriodSeconds") {
      EXPECT_EQ(op.at("op").as_string(), "add") << json::serialize(op);
    }
  }
}

TEST(AdmissionReviewTest, AbsentOrNullGracePeriodIsAdded) {
  for (const char* name : {"grace_period_absent.json", "grace_period_null.json"}) {
    SCOPED_TRACE(name);
    Reviewed r = review(name);
    expectInjected(r, true);
    EXPECT_EQ(graceSeconds(r.pod_before), -1);
    const std::vector<json::object> ops = opsOn(r.patch, "/spec/terminationGracePeriodSeconds");
    ASSERT_EQ(ops.size(), 1u) << json::serialize(r.patch);
    EXPECT_EQ(ops[0].at("op").as_string(), "add");
    EXPECT_EQ(graceSeconds(r.pod_after), 40);
  }
}

TEST(AdmissionReviewTest, LongerGracePeriodIsKept) {
  Reviewed r = review("grace_period_longer.json");
  expectInjected(r, true);
  EXPECT_TRUE(opsOn(r.patch, "/spec/terminationGracePeriodSeconds").empty())
      << json::serialize(r.patch);
  EXPECT_EQ(graceSeconds(r.pod_after), 120);
  // Equal to the wanted value: also untouched.
  config::InjectionConfig config;
  config.termination_grace_period = std::chrono::seconds(30);
  Reviewed equal = review("annotated_pod.json", config);
  ASSERT_EQ(equal.result.outcome, AdmissionOutcome::kInjected);
  EXPECT_TRUE(opsOn(equal.patch, "/spec/terminationGracePeriodSeconds").empty());
  EXPECT_EQ(graceSeconds(equal.pod_after), 30);
}

TEST(AdmissionReviewTest, GracePeriodAndSecretComeFromTheConfig) {
  config::InjectionConfig config;
  config.termination_grace_period = std::chrono::milliseconds(90'500);  // rounded up
  config.secret_name = "shop-llm-keys";
  Reviewed r = review("grace_period_longer.json", config);  // 120 s
  ASSERT_EQ(r.result.outcome, AdmissionOutcome::kInjected);
  EXPECT_EQ(graceSeconds(r.pod_after), 120);
  r = review("annotated_pod.json", config);  // 30 s
  ASSERT_EQ(r.result.outcome, AdmissionOutcome::kInjected);
  EXPECT_EQ(graceSeconds(r.pod_after), 91);
  const json::object sidecar = sidecars(r.pod_after).at(0);
  EXPECT_EQ(sidecar.at("envFrom").at(0).at("secretRef").at("name").as_string(), "shop-llm-keys");
  // secret_name "": no envFrom at all.
  config.secret_name = "";
  r = review("annotated_pod.json", config);
  ASSERT_EQ(r.result.outcome, AdmissionOutcome::kInjected);
  EXPECT_FALSE(sidecars(r.pod_after).at(0).contains("envFrom"));
}

TEST(AdmissionReviewTest, NoPatchWhenNotAskedFor) {
  for (const char* name :
       {"plain_pod.json", "not_annotated_false.json", "update_operation.json", "not_a_pod.json"}) {
    SCOPED_TRACE(name);
    Reviewed r = review(name);
    EXPECT_EQ(r.result.outcome, AdmissionOutcome::kSkipped) << r.result.reason;
    EXPECT_FALSE(r.response.contains("patch"));
    EXPECT_FALSE(r.result.uid.empty());
  }
}

TEST(AdmissionReviewTest, AlreadyInjectedPodsAreLeftAlone) {
  for (const char* name : {"already_injected_pod.json", "llmgate_container_present.json"}) {
    SCOPED_TRACE(name);
    Reviewed r = review(name);
    EXPECT_EQ(r.result.outcome, AdmissionOutcome::kAlreadyInjected) << r.result.reason;
    EXPECT_FALSE(r.response.contains("patch"));
    EXPECT_EQ(r.pod_after, r.pod_before);
  }
}

TEST(AdmissionReviewTest, MalformedReviewsAreAllowedWithoutPatch) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(LLMGATE_ADMISSION_DIR)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("malformed_")) continue;
    SCOPED_TRACE(name);
    ++count;
    Reviewed r = review(name);
    EXPECT_EQ(r.result.outcome, AdmissionOutcome::kMalformed);
    EXPECT_FALSE(r.result.reason.empty());
    EXPECT_FALSE(r.response.contains("patch"));
    EXPECT_FALSE(r.response.contains("patchType"));
  }
  EXPECT_GE(count, 15);
}

TEST(AdmissionReviewTest, MalformedReviewEchoesTheUidWhenReadable) {
  EXPECT_EQ(review("malformed_no_object.json").result.uid, "c1a5e7c2-0100-4f5e-9c3a-000000000100");
  EXPECT_EQ(review("malformed_containers_not_list.json").result.uid,
            "c1a5e7c2-0100-4f5e-9c3a-000000000100");
  EXPECT_THAT(review("malformed_containers_not_list.json").result.reason,
              HasSubstr("request.object.spec.containers: expected a list"));
  EXPECT_EQ(review("malformed_not_json.txt").result.uid, "");
  EXPECT_THAT(review("malformed_duplicate_uid.json").result.reason, HasSubstr("duplicate key"));
  EXPECT_THAT(review("malformed_grace_period_string.json").result.reason,
              HasSubstr("request.object.spec.terminationGracePeriodSeconds: expected an integer"));
}

// Every prefix and many random corruptions of a real review: an answer
// every time, never a crash.
TEST(AdmissionReviewTest, CorruptedInputNeverCrashes) {
  const std::string body = fixture("existing_init_and_volumes.json");
  for (std::size_t n = 0; n < body.size(); n += 7) {
    AdmissionResult r = reviewAdmission(body.substr(0, n), {});
    EXPECT_EQ(r.outcome, AdmissionOutcome::kMalformed);
    EXPECT_THAT(r.response, HasSubstr("\"allowed\":true"));
  }
  std::mt19937 random(42);
  int injected = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string corrupted = body;
    for (int k = 0; k < 3; ++k) {
      corrupted[random() % corrupted.size()] = static_cast<char>(random() % 128);
    }
    AdmissionResult r = reviewAdmission(corrupted, {});
    EXPECT_THAT(r.response, HasSubstr("\"allowed\":true"));
    if (r.outcome == AdmissionOutcome::kInjected) {
      ++injected;
      json::value doc = json::parse(corrupted);
      EXPECT_TRUE(
          applyJsonPatch(doc.at("request").at("object"), json::parse(r.patch).as_array()).ok());
    }
  }
  EXPECT_GT(injected, 0);
}

TEST(JsonPatchTest, EscapesPointerTokens) {
  EXPECT_EQ(escapePointerToken("llmgate.io/inject"), "llmgate.io~1inject");
  EXPECT_EQ(escapePointerToken("a~b/c"), "a~0b~1c");
  absl::StatusOr<std::vector<std::string>> tokens = testing::parsePointer("/a~1b/c~0d/~01");
  ASSERT_TRUE(tokens.ok());
  EXPECT_EQ(*tokens, (std::vector<std::string>{"a/b", "c~d", "~1"}));
}

TEST(JsonPatchTest, ApplierFollowsRfc6902) {
  json::value doc = json::parse(R"({"a":[1,2],"m":{"x/y":1}})");
  json::array ops = json::parse(R"([
    {"op":"add","path":"/a/-","value":3},
    {"op":"add","path":"/a/0","value":0},
    {"op":"replace","path":"/m/x~1y","value":2},
    {"op":"remove","path":"/a/1"},
    {"op":"add","path":"/n","value":{"k":[]}}
  ])")
                        .as_array();
  absl::StatusOr<json::value> out = applyJsonPatch(doc, ops);
  ASSERT_TRUE(out.ok()) << out.status();
  EXPECT_EQ(*out, json::parse(R"({"a":[0,2,3],"m":{"x/y":2},"n":{"k":[]}})"));
  // Strictness: a missing parent, an index past the end, remove of "-".
  EXPECT_FALSE(
      applyJsonPatch(doc, json::parse(R"([{"op":"add","path":"/q/r","value":1}])").as_array())
          .ok());
  EXPECT_FALSE(
      applyJsonPatch(doc, json::parse(R"([{"op":"add","path":"/a/5","value":1}])").as_array())
          .ok());
  EXPECT_FALSE(
      applyJsonPatch(doc, json::parse(R"([{"op":"remove","path":"/a/-"}])").as_array()).ok());
  EXPECT_FALSE(
      applyJsonPatch(doc, json::parse(R"([{"op":"replace","path":"/zz","value":1}])").as_array())
          .ok());
}

TEST(JsonPatchTest, BuilderAppendsOrCreates) {
  JsonPatchBuilder builder;
  json::array existing{1};
  builder.appendToArray("/l", &existing, {json::value(2), json::value(3)});
  builder.appendToArray("/n", nullptr, {json::value(4)});
  EXPECT_EQ(builder.serialize(),
            R"([{"op":"add","path":"/l/-","value":2},{"op":"add","path":"/l/-","value":3},)"
            R"({"op":"add","path":"/n","value":[4]}])");
}

TEST(Base64Test, MatchesRfc4648Vectors) {
  EXPECT_EQ(base64Encode(""), "");
  EXPECT_EQ(base64Encode("f"), "Zg==");
  EXPECT_EQ(base64Encode("fo"), "Zm8=");
  EXPECT_EQ(base64Encode("foo"), "Zm9v");
  EXPECT_EQ(base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(base64Decode(base64Encode(std::string("\xff\x00\xfe", 3))),
            std::string("\xff\x00\xfe", 3));
}

}  // namespace
}  // namespace llmgate::control::webhook
