// The pre-walk parseChatRequest (see the .cc), for the differential test.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "boost/json/object.hpp"
#include "proxy/api/chat_request.h"

namespace llmgate::proxy::api::reference {

// What it returned: the request's DOM and the members it read.
struct ReferenceChatRequest {
  boost::json::object body;
  std::string model;
  bool stream = false;
  bool include_usage = false;
  std::optional<std::int64_t> max_tokens;
};

ApiResult<ReferenceChatRequest> parseChatRequestReference(std::string_view body);

}  // namespace llmgate::proxy::api::reference
