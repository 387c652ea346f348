// Media-type checks shared by the client side and the upstream side.
#pragma once

#include <string_view>

namespace llmgate::proxy::api {

// True for `application/json`, any case, with or without parameters
// (`application/json; charset=utf-8`) and optional whitespace before them.
bool isJsonMediaType(std::string_view content_type);

}  // namespace llmgate::proxy::api
