// The pre-walk parseChatRequest (see the .cc), for the differential test.
#pragma once

#include <string_view>

#include "proxy/api/chat_request.h"

namespace llmgate::proxy::api::reference {

ApiResult<ChatRequest> parseChatRequestReference(std::string_view body);

}  // namespace llmgate::proxy::api::reference
