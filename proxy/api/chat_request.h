// Parsing and validation of client requests. The JSON body is kept as sent
// (adapters only rewrite what they must, e.g. "model"); validation checks the
// fields llmgate or the providers rely on and names the field that is wrong.
//
// A chat request is validated in one SAX pass over its text, which also
// gathers what the request path reads (model, stream, limits, sampling
// facts, the prompt's text): a plain pass-through never builds a DOM. The
// DOM is built on first use of body(), for what needs the whole tree (route
// rules, cache keys, adapters that rewrite the body).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "boost/container/small_vector.hpp"
#include "boost/json/monotonic_resource.hpp"
#include "boost/json/object.hpp"
#include "proxy/api/api_error.h"

namespace llmgate::proxy::api {

// The memory of a request's DOM: one arena, released at once with the
// request. Held by pointer (not shared), so destroying the DOM is skipped
// entirely (Boost.JSON does so for a non-shared resource whose deallocation
// is trivial). Copies of the DOM or of its values land in the same arena and
// must not outlive the request.
using JsonArena = std::unique_ptr<boost::json::monotonic_resource>;

// A member's value as the validation pass saw it: scalars with their value,
// containers by kind only.
struct JsonScalar {
  enum class Kind : std::uint8_t {
    kAbsent,
    kNull,
    kBool,
    kInt64,
    kUint64,
    kDouble,
    kString,
    kArray,
    kObject
  };
  Kind kind = Kind::kAbsent;
  bool boolean = false;
  std::int64_t int64 = 0;
  std::uint64_t uint64 = 0;
  double number = 0;

  bool present() const { return kind != Kind::kAbsent; }
  bool isNull() const { return kind == Kind::kNull; }
  bool isNumber() const {
    return kind == Kind::kInt64 || kind == Kind::kUint64 || kind == Kind::kDouble;
  }
  // The number it holds, as a double, if it is one.
  std::optional<double> asNumber() const;

  // A DOM value as the validation pass would have seen it; kAbsent for a
  // null pointer (a member that is not there).
  static JsonScalar of(const boost::json::value* v);
};

// "null", "a boolean", "a number", "a string", "an array", "an object": what
// error messages call a value of that kind.
std::string_view kindName(JsonScalar::Kind kind);

// The prompt's text as the token estimate reads it (routing::estimatePrompt),
// gathered by the validation pass: message contents, content parts' `text`,
// and names.
struct PromptText {
  // Strings written without escapes: views into the request text.
  boost::container::small_vector<std::string_view, 8> texts;
  // Strings written with escapes, unescaped and concatenated.
  std::string escaped;
  std::uint32_t messages = 0;  // messages that are objects
  std::uint32_t names = 0;     // string `name`s of messages
  // The request has `tools`, a message's `tool_calls` or a
  // `response_format.json_schema`: the estimate counts them serialized, from
  // the DOM.
  bool needs_dom = false;
};

class ChatRequest {
 public:
  ChatRequest() = default;
  ChatRequest(ChatRequest&&) noexcept = default;
  ChatRequest& operator=(ChatRequest&&) noexcept = default;

  std::string model;
  bool stream = false;
  bool include_usage = false;              // stream_options.include_usage
  std::optional<std::int64_t> max_tokens;  // max_completion_tokens, else max_tokens
  // The body has the key "max_completion_tokens" (however it is spelled).
  bool has_max_completion_tokens = false;
  bool has_max_tokens = false;
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
  // Sampling members the cache's eligibility reads (cache::isDeterministic).
  JsonScalar n;
  JsonScalar temperature;
  JsonScalar seed;
  PromptText prompt;

  // The text the request was parsed from. Not owned: it must outlive the
  // request (the handler's HTTP message holds it).
  std::string_view text() const { return text_; }
  // The body as a DOM, parsed on first use (from the validated text, so it
  // cannot fail) into the request's arena. Not thread-safe: a request is
  // handled on one thread.
  const boost::json::object& body() const;

 private:
  friend ApiResult<ChatRequest> parseChatRequest(std::string_view body);

  std::string_view text_;
  mutable JsonArena arena_;  // declared before `body_`: destroyed after it
  mutable std::optional<boost::json::object> body_;
};

struct EmbeddingsRequest {
  JsonArena arena;  // declared before `body`: destroyed after it
  boost::json::object body;
  std::string model;
};

// `body` must outlive the request returned (see ChatRequest::text()).
ApiResult<ChatRequest> parseChatRequest(std::string_view body);
ApiResult<EmbeddingsRequest> parseEmbeddingsRequest(std::string_view body);

}  // namespace llmgate::proxy::api
