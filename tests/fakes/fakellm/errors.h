// Provider error bodies: each dialect's envelope and a realistic default body
// per status (PROVIDERS.md §1.6, §2.4, §3.4, §4, §5).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tests/fakes/fakellm/dialect.h"

namespace llmgate::fakellm {

struct ErrorSpec {
  int status = 500;
  std::string type;                  // error.type
  std::string message;               // error.message
  std::optional<std::string> code;   // nullopt renders as null
  std::optional<std::string> param;  // nullopt renders as null
  std::string detail;                // DeepSeek only: Chinese hint (invented), omitted if empty
  std::string message_json;          // Mistral only: raw JSON used as "message" (422 detail)
  bool bare = false;                 // Mistral only: {"message":…,"request_id":…} (its 401)
};

// A realistic error for `status`. `error_type` (may be empty) picks a variant
// where the provider has several (OpenAI 429 "insufficient_quota"); otherwise it
// becomes error.type. `model` is quoted where the real message quotes it.
ErrorSpec scriptedError(Dialect dialect, int status, std::string_view error_type,
                        std::string_view model);

// The provider's 400 for a prompt over the context window, with the numbers
// in its message (`completion_tokens`: the requested max_tokens, 0 if none).
ErrorSpec contextLengthError(Dialect dialect, int64_t window, int64_t prompt_tokens,
                             int64_t completion_tokens);

// The 400 for a body that is not JSON.
ErrorSpec invalidJsonError(Dialect dialect);

// A 400 for a request the provider would reject (message written by the caller).
ErrorSpec invalidRequestError(Dialect dialect, std::string message,
                              std::optional<std::string> param = std::nullopt);

// The 401 for a missing (`presented` empty) or wrong key.
ErrorSpec authError(Dialect dialect, std::string_view presented);

// The 404 for an unknown path.
ErrorSpec notFoundError(Dialect dialect, std::string_view path);

// The body in the dialect's envelope; `request_id` goes where the provider
// puts one in the body (Anthropic, DashScope, Mistral's bare 401).
std::string renderError(Dialect dialect, const ErrorSpec& error, std::string_view request_id);

// One complete SSE event reporting a failure mid-stream: `data: {"error":…}`
// for OpenAI-style dialects, `event: error` for Anthropic.
void appendStreamErrorEvent(Dialect dialect, std::string& out);

}  // namespace llmgate::fakellm
