#include "tests/fakes/fakellm/completion.h"

#include <algorithm>

#include "tests/fakes/fakellm/answer.h"
#include "tests/fakes/fakellm/json_text.h"

namespace llmgate::fakellm {
namespace {

// Arguments for a call of `tool`: each declared property (at most 3) gets a
// deterministic value of its declared type.
std::string toolArguments(const ToolInfo* tool, uint64_t seed) {
  std::string out = "{";
  if (tool != nullptr && tool->schema != nullptr) {
    const auto* props = tool->schema->if_contains("properties");
    if (props != nullptr && props->is_object()) {
      uint64_t state = seed;
      int n = 0;
      for (const auto& [name, prop] : props->get_object()) {
        if (n++ == 3) break;
        if (n > 1) out.push_back(',');
        appendJsonString(out, name);
        out.push_back(':');
        std::string_view type;
        if (const auto* t = prop.is_object() ? prop.get_object().if_contains("type") : nullptr;
            t != nullptr && t->is_string()) {
          type = t->get_string();
        }
        const uint64_t r = splitMix64(state);
        if (type == "integer" || type == "number") {
          appendInt(out, static_cast<int64_t>(r % 100));
        } else if (type == "boolean") {
          out.append(r % 2 == 0 ? "true" : "false");
        } else {
          appendJsonString(out, answerVocabulary()[r % answerVocabulary().size()]);
        }
      }
    }
  }
  out.push_back('}');
  return out;
}

}  // namespace

Completion makeCompletion(const ChatRequest& req, Dialect dialect, const Behaviour& b,
                          CompletionInputs inputs, Rng& rng) {
  Completion c;
  c.dialect = dialect;
  c.id = std::move(inputs.id);
  c.created = inputs.created;
  c.model = std::string(req.model);
  c.prompt_tokens = req.prompt_tokens;
  c.cached_tokens = std::clamp<int64_t>(inputs.cached_tokens, 0, req.prompt_tokens);
  c.include_usage = req.include_usage;

  int64_t reasoning = b.reasoning_words.value_or(0);
  int64_t words = b.answer_words.value_or(inputs.default_answer_words);
  bool capped = false;
  if (req.max_tokens) {
    // Like DeepSeek's reasoner, max_tokens covers the reasoning too.
    const int64_t budget = std::max<int64_t>(*req.max_tokens, 0);
    if (reasoning > budget) {
      reasoning = budget;
      capped = true;
    }
    if (words > budget - reasoning) {
      words = budget - reasoning;
      capped = true;
    }
  }
  if (reasoning > 0) {
    c.reasoning = answerWords(req.content_hash ^ 0x5eedu, static_cast<int>(reasoning));
  }

  if (b.tool_call && !capped) {
    const ToolInfo* tool = nullptr;
    for (const auto& t : req.tools) {
      if (b.tool_call->empty() || t.name == *b.tool_call) {
        tool = &t;
        break;
      }
    }
    ToolCall call;
    call.id = newToolCallId(dialect, rng);
    call.name = tool != nullptr        ? std::string(tool->name)
                : b.tool_call->empty() ? std::string("get_weather")
                                       : *b.tool_call;
    call.arguments = toolArguments(tool, req.content_hash);
    c.tool_tokens = static_cast<int64_t>(call.name.size() + call.arguments.size() + 3) / 4;
    c.tool_call = std::move(call);
    c.finish_reason = "tool_calls";
  } else {
    c.words = answerWords(req.content_hash, static_cast<int>(words));
    c.finish_reason = capped ? "length" : "stop";
  }
  if (b.finish_reason) c.finish_reason = *b.finish_reason;
  return c;
}

namespace detail {

void appendWordJson(std::string& out, std::string_view word, bool first) {
  out.push_back('"');
  if (!first) out.push_back(' ');
  out.append(word);
  out.push_back('"');
}

void appendWordsJson(std::string& out, const std::vector<std::string_view>& words) {
  out.push_back('"');
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) out.push_back(' ');
    out.append(words[i]);
  }
  out.push_back('"');
}

std::vector<std::string_view> argumentFragments(std::string_view arguments) {
  const size_t n = arguments.size();
  const size_t cuts[] = {0, n / 3, 2 * n / 3, n};
  std::vector<std::string_view> pieces;
  for (int i = 0; i < 3; ++i) {
    if (cuts[i] < cuts[i + 1]) pieces.push_back(arguments.substr(cuts[i], cuts[i + 1] - cuts[i]));
  }
  return pieces;
}

}  // namespace detail

std::string_view anthropicStopReason(std::string_view finish_reason) {
  if (finish_reason == "stop") return "end_turn";
  if (finish_reason == "length") return "max_tokens";
  if (finish_reason == "tool_calls") return "tool_use";
  if (finish_reason == "content_filter") return "refusal";
  return finish_reason;
}

std::string completionBody(const Completion& c) {
  std::string out;
  out.reserve(512 + 8 * c.words.size());
  if (c.dialect == Dialect::kAnthropic) {
    detail::appendAnthropicBody(c, out);
  } else {
    detail::appendOpenAiStyleBody(c, out);
  }
  return out;
}

StreamScript completionStream(const Completion& c) {
  StreamScript s;
  s.bytes.reserve(1024 + 256 * (c.words.size() + c.reasoning.size()));
  s.events.reserve(8 + c.words.size() + c.reasoning.size());
  if (c.dialect == Dialect::kAnthropic) {
    detail::appendAnthropicStream(c, s);
  } else {
    detail::appendOpenAiStyleStream(c, s);
  }
  return s;
}

}  // namespace llmgate::fakellm
