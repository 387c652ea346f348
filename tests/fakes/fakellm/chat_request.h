// What fakellm reads from a chat request body: the fields that shape the answer,
// a hash of the conversation, a token estimate, and whether the real provider
// would have rejected the request.
#pragma once

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/fakes/fakellm/dialect.h"
#include "tests/fakes/fakellm/errors.h"

namespace llmgate::fakellm {

// The conversation up to and including one message: its hash and token count.
struct PrefixKey {
  uint64_t hash = 0;
  int64_t tokens = 0;
};

struct ToolInfo {
  std::string_view name;
  const boost::json::object* schema = nullptr;  // JSON Schema of the arguments, if any
};

// Views point into the parsed body, which must outlive this struct.
struct ChatRequest {
  std::string_view model;
  bool stream = false;
  bool include_usage = false;         // stream_options.include_usage
  std::optional<int64_t> max_tokens;  // max_completion_tokens, else max_tokens
  uint64_t content_hash = 0;          // roles and texts of all messages, in order
  int64_t prompt_tokens = 0;          // sum of messageTokens() over messages (+ system)
  std::vector<PrefixKey> prefixes;    // one per message, cumulative
  std::string last_user_text;         // where FAKELLM{...} directives are looked for
  std::vector<ToolInfo> tools;
  std::optional<ErrorSpec> invalid;  // what the real provider would answer instead
};

// Reads a parsed chat body in `dialect`. With `strict`, requests the real
// provider rejects (DeepSeek role `developer`, Anthropic without `max_tokens`,
// Mistral extra fields, ...) get `invalid` set; structural problems (no
// `messages` array) always do.
ChatRequest readChatRequest(const boost::json::value& body, Dialect dialect, bool strict);

// The text of a message `content`: a string, or the `text` of each part of an
// array of parts, concatenated.
std::string contentText(const boost::json::value& content);

}  // namespace llmgate::fakellm
