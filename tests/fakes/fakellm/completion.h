// One answer, decided before any byte is written, and its wire forms: the
// non-streamed body and the SSE events of each dialect.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tests/fakes/fakellm/behaviour.h"
#include "tests/fakes/fakellm/chat_request.h"
#include "tests/fakes/fakellm/dialect.h"

namespace llmgate::fakellm {

struct ToolCall {
  std::string id;
  std::string name;
  std::string arguments;  // a JSON object, as text
};

struct Completion {
  Dialect dialect = Dialect::kOpenAi;
  std::string id;
  int64_t created = 0;
  std::string model;
  std::vector<std::string_view> words;      // the answer; one word is one token
  std::vector<std::string_view> reasoning;  // reasoning_content / thinking; one token per word
  std::optional<ToolCall> tool_call;
  int64_t tool_tokens = 0;             // ceil(len(name + arguments) / 4)
  std::string finish_reason = "stop";  // OpenAI vocabulary; Anthropic maps it
  int64_t prompt_tokens = 0;
  int64_t cached_tokens = 0;   // DeepSeek prompt_cache_hit_tokens (<= prompt_tokens)
  bool include_usage = false;  // stream_options.include_usage

  int64_t completionTokens() const {
    return static_cast<int64_t>(words.size() + reasoning.size()) + tool_tokens;
  }
};

struct CompletionInputs {
  std::string id;
  int64_t created = 0;
  int64_t default_answer_words = 24;
  int64_t cached_tokens = 0;
};

// Decides the answer to `req` under behaviour `b`: words from the request hash,
// capped by max_tokens (then finish_reason "length"), reasoning, tool call.
Completion makeCompletion(const ChatRequest& req, Dialect dialect, const Behaviour& b,
                          CompletionInputs inputs, Rng& rng);

// The non-streamed response body.
std::string completionBody(const Completion& c);

// A streamed response: the SSE bytes and where each event starts and ends.
// `content` events carry answer material (a word, a reasoning word, a piece of
// tool arguments); they are the ones counted by cut_after/stream_error and
// paced by tokens_per_sec.
struct StreamEvent {
  size_t begin = 0;
  size_t end = 0;
  bool content = false;
};

struct StreamScript {
  std::string bytes;
  std::vector<StreamEvent> events;

  std::string_view event(size_t i) const {
    return std::string_view(bytes).substr(events[i].begin, events[i].end - events[i].begin);
  }
};

StreamScript completionStream(const Completion& c);

// Anthropic's stop_reason for an OpenAI finish_reason.
std::string_view anthropicStopReason(std::string_view finish_reason);

namespace detail {
// Vocabulary words need no escaping. `first` false: the word carries the
// leading space that makes stream pieces concatenate to the full text.
void appendWordJson(std::string& out, std::string_view word, bool first);
// The words joined by single spaces, as one JSON string.
void appendWordsJson(std::string& out, const std::vector<std::string_view>& words);

// Tool arguments as a stream sends them: in (up to) three fragments, as real
// streams split them.
std::vector<std::string_view> argumentFragments(std::string_view arguments);

// Per-dialect writers (openai_format.cc, anthropic_format.cc).
void appendOpenAiStyleBody(const Completion& c, std::string& out);
void appendOpenAiStyleStream(const Completion& c, StreamScript& out);
void appendAnthropicBody(const Completion& c, std::string& out);
void appendAnthropicStream(const Completion& c, StreamScript& out);
}  // namespace detail

}  // namespace llmgate::fakellm
