// Parsing and validation of client requests. The JSON body is kept as sent
// (adapters only rewrite what they must, e.g. "model"); validation checks the
// fields llmgate or the providers rely on and names the field that is wrong.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "boost/json/monotonic_resource.hpp"
#include "boost/json/object.hpp"
#include "proxy/api/api_error.h"

namespace llmgate::proxy::api {

// The memory of a request's DOM: one arena, released at once with the
// request. Held by pointer (not shared), so destroying the DOM is skipped
// entirely (Boost.JSON does so for a non-shared resource whose deallocation
// is trivial). Copies of `body` or of its values land in the same arena and
// must not outlive the request.
using JsonArena = std::unique_ptr<boost::json::monotonic_resource>;

struct ChatRequest {
  JsonArena arena;  // declared before `body`: destroyed after it
  boost::json::object body;
  std::string model;
  bool stream = false;
  bool include_usage = false;              // stream_options.include_usage
  std::optional<std::int64_t> max_tokens;  // max_completion_tokens, else max_tokens
  // Where the top-level keys "model", "max_tokens" and
  // "max_completion_tokens" start (their opening quote) in the body text,
  // npos when absent or written with escapes: the upstream body is spliced
  // there without scanning the text again.
  struct KeyOffsets {
    std::size_t model = std::string_view::npos;
    std::size_t max_tokens = std::string_view::npos;
    std::size_t max_completion_tokens = std::string_view::npos;
  };
  KeyOffsets key_at;
};

struct EmbeddingsRequest {
  JsonArena arena;
  boost::json::object body;
  std::string model;
};

ApiResult<ChatRequest> parseChatRequest(std::string_view body);
ApiResult<EmbeddingsRequest> parseEmbeddingsRequest(std::string_view body);

}  // namespace llmgate::proxy::api
