#include "control/webhook/admission_review.h"

#include "boost/json/array.hpp"
#include "boost/json/object.hpp"
#include "boost/json/serialize.hpp"
#include "common/json/strict_parse.h"
#include "common/text/str_cat.h"
#include "control/webhook/base64.h"
#include "control/webhook/json_patch.h"
#include "control/webhook/pod_view.h"
#include "control/webhook/sidecar.h"

namespace llmgate::control::webhook {
namespace {

namespace json = boost::json;

constexpr std::string_view kApiVersion = "admission.k8s.io/v1";
constexpr int kMaxDepth = 100;

std::string_view stringMember(const json::object& object, std::string_view key) {
  const json::value* value = object.if_contains(key);
  if (value == nullptr || !value->is_string()) return {};
  return value->get_string();
}

void finish(AdmissionResult& result) {
  json::object response{{"uid", result.uid}, {"allowed", true}};
  if (!result.patch.empty()) {
    response["patchType"] = "JSONPatch";
    response["patch"] = base64Encode(result.patch);
  }
  if (!result.warnings.empty()) {
    json::array warnings;
    for (const std::string& warning : result.warnings) warnings.emplace_back(warning);
    response["warnings"] = std::move(warnings);
  }
  json::object review{
      {"apiVersion", kApiVersion}, {"kind", "AdmissionReview"}, {"response", std::move(response)}};
  result.response = json::serialize(review);
}

AdmissionResult malformed(AdmissionResult result, std::string reason) {
  result.outcome = AdmissionOutcome::kMalformed;
  result.reason = std::move(reason);
  result.warnings.clear();
  finish(result);
  return result;
}

AdmissionResult skipped(AdmissionResult result, AdmissionOutcome outcome, std::string reason) {
  result.outcome = outcome;
  result.reason = std::move(reason);
  finish(result);
  return result;
}

// The patch against the pod as sent.
std::string buildPatch(const PodView& pod, const config::InjectionConfig& config,
                       std::vector<std::string>& warnings) {
  const SidecarOptions options = sidecarOptions(pod, config, warnings);
  for (int port : {kAppPort, kAdminPort}) {
    if (pod.declaresPort(port)) {
      warnings.push_back(strCat("llmgate: a container of this pod declares port ", port,
                                ", which llmgate listens on"));
    }
  }
  JsonPatchBuilder patch;
  const json::object container = sidecarContainer(config, options);
  if (options.mode == SidecarMode::kNative) {
    patch.appendToArray("/spec/initContainers", pod.init_containers, {container});
  } else {
    patch.appendToArray("/spec/containers", pod.containers, {container});
  }
  patch.appendToArray("/spec/volumes", pod.volumes, sidecarVolumes(config, options));
  // preStop sleep + drain must fit the grace period: raise it, never lower it.
  const std::int64_t grace = terminationGraceSeconds(config);
  if (!pod.termination_grace_period_seconds) {
    patch.add("/spec/terminationGracePeriodSeconds", grace);
  } else if (*pod.termination_grace_period_seconds < grace) {
    patch.replace("/spec/terminationGracePeriodSeconds", grace);
  }
  const json::object annotations = sidecarAnnotations(pod, warnings);
  if (pod.metadata == nullptr) {
    patch.add("/metadata", json::object{{"annotations", annotations}});
  } else {
    patch.setMembers("/metadata/annotations", pod.annotations, annotations);
  }
  return patch.serialize();
}

}  // namespace

std::string_view outcomeName(AdmissionOutcome outcome) {
  switch (outcome) {
    case AdmissionOutcome::kInjected:
      return "injected";
    case AdmissionOutcome::kSkipped:
      return "skipped";
    case AdmissionOutcome::kAlreadyInjected:
      return "already_injected";
    case AdmissionOutcome::kMalformed:
      return "malformed";
  }
  return "malformed";
}

AdmissionResult reviewAdmission(std::string_view request_body,
                                const config::InjectionConfig& config) {
  AdmissionResult result;
  ::llmgate::json::StrictParseResult parsed = ::llmgate::json::parseStrict(request_body, kMaxDepth);
  if (!parsed.ok) return malformed(std::move(result), strCat("not JSON: ", parsed.error));
  if (!parsed.value.is_object()) {
    return malformed(std::move(result), "expected an AdmissionReview object");
  }
  const json::object& review = parsed.value.get_object();
  // The uid first, so that every later refusal still echoes it.
  const json::value* request_value = review.if_contains("request");
  const json::object* request = request_value != nullptr && request_value->is_object()
                                    ? &request_value->get_object()
                                    : nullptr;
  if (request != nullptr) result.uid = std::string(stringMember(*request, "uid"));

  if (stringMember(review, "kind") != "AdmissionReview") {
    return malformed(std::move(result), "kind is not AdmissionReview");
  }
  if (stringMember(review, "apiVersion") != kApiVersion) {
    return malformed(std::move(result), strCat("apiVersion is not ", kApiVersion));
  }
  if (request == nullptr) return malformed(std::move(result), "request: missing or not a map");
  if (result.uid.empty()) return malformed(std::move(result), "request.uid: missing or empty");

  const std::string_view ns = stringMember(*request, "namespace");
  const json::value* object = request->if_contains("object");
  if (object == nullptr || object->is_null()) {
    return malformed(std::move(result), "request.object: missing");
  }
  absl::StatusOr<PodView> pod_or = [&]() -> absl::StatusOr<PodView> {
    const json::value* kind = request->if_contains("kind");
    if (kind != nullptr && kind->is_object() && stringMember(kind->get_object(), "kind") != "Pod") {
      return absl::FailedPreconditionError("not a Pod");
    }
    return readPod(*object);
  }();
  if (!pod_or.ok()) {
    if (absl::IsFailedPrecondition(pod_or.status())) {
      return skipped(std::move(result), AdmissionOutcome::kSkipped, "request.kind: not a Pod");
    }
    return malformed(std::move(result), std::string(pod_or.status().message()));
  }
  const PodView& pod = *pod_or;
  result.pod = strCat(ns.empty() ? "?" : ns, "/", pod.name.empty() ? "?" : pod.name);

  const std::string_view operation = stringMember(*request, "operation");
  if (!operation.empty() && operation != "CREATE") {
    return skipped(std::move(result), AdmissionOutcome::kSkipped,
                   strCat("operation ", operation.substr(0, 16), ", not CREATE"));
  }
  if (pod.annotation(kInjectAnnotation) != "true") {
    return skipped(std::move(result), AdmissionOutcome::kSkipped,
                   strCat("no ", kInjectAnnotation, ": \"true\" annotation"));
  }
  if (pod.annotation(kInjectedAnnotation) == "true") {
    return skipped(std::move(result), AdmissionOutcome::kAlreadyInjected,
                   strCat("already injected (", kInjectedAnnotation, ")"));
  }
  if (pod.hasContainer(kContainerName)) {
    return skipped(std::move(result), AdmissionOutcome::kAlreadyInjected,
                   strCat("already injected (a container named ", kContainerName, ")"));
  }
  result.outcome = AdmissionOutcome::kInjected;
  result.patch = buildPatch(pod, config, result.warnings);
  finish(result);
  return result;
}

}  // namespace llmgate::control::webhook
