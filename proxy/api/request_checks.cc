#include "proxy/api/request_checks.h"

#include <string>

#include "common/text/str_cat.h"

namespace llmgate::proxy::api::detail {

ApiError forbiddenParameter(std::string_view where, std::string_view key) {
  return ApiError::invalidRequest(strCat("`", where, key,
                                         "` is not accepted: llmgate chooses the provider, its "
                                         "URL and its credentials from its own configuration."),
                                  strCat(where, key), "forbidden_parameter");
}

ApiError modelRequired() {
  return ApiError::invalidRequest(
      "`model` is required: a configured model name or route alias (see GET /v1/models).", "model");
}

ApiError modelNotAString() {
  return ApiError::invalidRequest("`model` must be a non-empty string.", "model");
}

}  // namespace llmgate::proxy::api::detail
