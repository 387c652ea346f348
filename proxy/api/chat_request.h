// Parsing and validation of client requests. The JSON body is kept as sent
// (adapters only rewrite what they must, e.g. "model"); validation checks the
// fields llmgate or the providers rely on and names the field that is wrong.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "boost/json/object.hpp"
#include "proxy/api/api_error.h"

namespace llmgate::proxy::api {

struct ChatRequest {
  boost::json::object body;
  std::string model;
  bool stream = false;
  bool include_usage = false;              // stream_options.include_usage
  std::optional<std::int64_t> max_tokens;  // max_completion_tokens, else max_tokens
};

struct EmbeddingsRequest {
  boost::json::object body;
  std::string model;
};

ApiResult<ChatRequest> parseChatRequest(std::string_view body);
ApiResult<EmbeddingsRequest> parseEmbeddingsRequest(std::string_view body);

}  // namespace llmgate::proxy::api
