// Standard base64 (RFC 4648 section 4, with padding): AdmissionResponse.patch
// is a []byte, which Kubernetes' JSON encodes this way.
#pragma once

#include <string>
#include <string_view>

namespace llmgate::control::webhook {

std::string base64Encode(std::string_view bytes);

}  // namespace llmgate::control::webhook
