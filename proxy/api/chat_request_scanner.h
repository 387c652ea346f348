// The validation pass of parseChatRequest: one SAX walk over the text that
// refuses what the strict parser refuses (duplicate keys, nesting deeper than
// 64), checks the members llmgate and the providers rely on in a fixed order
// (a body with several mistakes gets the first one's error), and fills in
// what the request path reads. Internal to proxy/api.
#pragma once

#include <optional>
#include <string_view>

#include "proxy/api/api_error.h"
#include "proxy/api/chat_request.h"

namespace llmgate::proxy::api::detail {

// Fills `req`'s public members from `body`; the error a client gets
// otherwise. `body` is not empty.
std::optional<ApiError> scanChatRequest(std::string_view body, ChatRequest& req);

}  // namespace llmgate::proxy::api::detail
