// The injection webhook's decision, as a pure function: an AdmissionReview v1
// request (JSON text) in, an AdmissionReview v1 response out. Every answer is
// allowed: injection never blocks a pod; what went wrong is in `reason` for
// the caller to log and count (docs/KUBERNETES.md, "Injection webhook").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/config/control_loader.h"

namespace llmgate::control::webhook {

enum class AdmissionOutcome {
  kInjected,         // a patch adds llmgate
  kSkipped,          // not asked for (no llmgate.io/inject: "true"), not a pod, not CREATE
  kAlreadyInjected,  // the marker annotation or a container named llmgate: no patch
  kMalformed,        // unreadable review: allowed, no patch
};

// "injected", "skipped", "already_injected", "malformed" (metric labels).
std::string_view outcomeName(AdmissionOutcome outcome);

struct AdmissionResult {
  AdmissionOutcome outcome = AdmissionOutcome::kMalformed;
  std::string uid;                    // echoed; "" if unreadable
  std::string pod;                    // "namespace/name" for logs ("" if unknown)
  std::string reason;                 // why skipped or malformed (no pod content, no secrets)
  std::vector<std::string> warnings;  // also sent to the client in response.warnings
  std::string patch;                  // the JSON Patch (plain JSON, not base64); "" if none
  std::string response;               // the AdmissionReview v1 response document
};

AdmissionResult reviewAdmission(std::string_view request_body,
                                const config::InjectionConfig& config);

}  // namespace llmgate::control::webhook
