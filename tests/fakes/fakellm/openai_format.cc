// Bodies and SSE events of the OpenAI-style dialects: OpenAI, DeepSeek,
// DashScope and Mistral. Key order follows the captures in PROVIDERS.md.
#include "tests/fakes/fakellm/completion.h"
#include "tests/fakes/fakellm/json_text.h"

namespace llmgate::fakellm::detail {
namespace {

constexpr std::string_view kOpenAiFingerprint = "fp_7f3c2a9d41";
constexpr std::string_view kDeepSeekFingerprint = "fp_feb633d1f5_prod0820_fp8_kvcache";

enum class UsageField { kAbsent, kNull, kFull };

void appendUsage(std::string& out, const Completion& c) {
  const int64_t prompt = c.prompt_tokens;
  const int64_t completion = c.completionTokens();
  const auto reasoning = static_cast<int64_t>(c.reasoning.size());
  auto field = [&out](std::string_view name, int64_t value) {
    out.append(name);
    appendInt(out, value);
  };
  switch (c.dialect) {
    case Dialect::kOpenAi:
      field(R"({"prompt_tokens":)", prompt);
      field(R"(,"completion_tokens":)", completion);
      field(R"(,"total_tokens":)", prompt + completion);
      out.append(R"(,"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0})");
      field(R"(,"completion_tokens_details":{"reasoning_tokens":)", reasoning);
      out.append(
          R"(,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}})");
      return;
    case Dialect::kDeepSeek:
      field(R"({"prompt_tokens":)", prompt);
      field(R"(,"completion_tokens":)", completion);
      field(R"(,"total_tokens":)", prompt + completion);
      field(R"(,"prompt_tokens_details":{"cached_tokens":)", c.cached_tokens);
      out.push_back('}');
      if (reasoning > 0) {
        field(R"(,"completion_tokens_details":{"reasoning_tokens":)", reasoning);
        out.push_back('}');
      }
      field(R"(,"prompt_cache_hit_tokens":)", c.cached_tokens);
      field(R"(,"prompt_cache_miss_tokens":)", prompt - c.cached_tokens);
      out.push_back('}');
      return;
    case Dialect::kDashScope:
      field(R"({"prompt_tokens":)", prompt);
      field(R"(,"completion_tokens":)", completion);
      field(R"(,"total_tokens":)", prompt + completion);
      out.append(R"(,"prompt_tokens_details":{"cached_tokens":0})");
      if (reasoning > 0) {
        field(R"(,"completion_tokens_details":{"reasoning_tokens":)", reasoning);
        field(R"(,"text_tokens":)", completion - reasoning);
        out.push_back('}');
      }
      out.push_back('}');
      return;
    case Dialect::kMistral:
    case Dialect::kAnthropic:
      field(R"({"prompt_tokens":)", prompt);
      field(R"(,"total_tokens":)", prompt + completion);
      field(R"(,"completion_tokens":)", completion);
      out.push_back('}');
      return;
  }
}

// Whether the dialect streams reasoning words as `reasoning_content`.
bool streamsReasoning(Dialect d) { return d == Dialect::kDeepSeek || d == Dialect::kDashScope; }

void appendToolCalls(std::string& out, const Completion& c) {
  const ToolCall& t = *c.tool_call;
  out.push_back('[');
  out.append(c.dialect == Dialect::kDeepSeek ? R"({"index":0,"id":)" : R"({"id":)");
  appendJsonString(out, t.id);
  out.append(R"(,"type":"function","function":{"name":)");
  appendJsonString(out, t.name);
  out.append(R"(,"arguments":)");
  appendJsonString(out, t.arguments);
  out.append("}}]");
}

void appendMessage(std::string& out, const Completion& c) {
  const bool reasoning = streamsReasoning(c.dialect) && !c.reasoning.empty();
  if (c.dialect == Dialect::kMistral) {
    out.append(R"({"content":)");
    appendWordsJson(out, c.words);
    out.append(R"(,"tool_calls":)");
    if (c.tool_call) {
      appendToolCalls(out, c);
    } else {
      out.append("null");
    }
    out.append(R"(,"prefix":false,"role":"assistant"})");
    return;
  }
  out.append(R"({"role":"assistant","content":)");
  if (c.tool_call && c.dialect == Dialect::kOpenAi) {
    out.append("null");
  } else {
    appendWordsJson(out, c.words);
  }
  if (reasoning) {
    out.append(R"(,"reasoning_content":)");
    appendWordsJson(out, c.reasoning);
  }
  if (c.tool_call) {
    out.append(R"(,"tool_calls":)");
    appendToolCalls(out, c);
  }
  if (c.dialect == Dialect::kOpenAi) out.append(R"(,"refusal":null)");
  out.push_back('}');
}

// One `data: {chunk}` event. `delta` is the delta object's JSON; an empty
// `finish` renders null; `no_choices` gives the trailing `choices: []` usage chunk.
void appendChunk(StreamScript& s, const Completion& c, std::string_view delta,
                 std::string_view finish, UsageField usage, bool content, bool no_choices = false) {
  std::string& out = s.bytes;
  const size_t begin = out.size();
  auto appendChoices = [&] {
    out.append(R"("choices":[)");
    if (!no_choices) {
      if (c.dialect == Dialect::kDashScope) {
        out.append(R"({"finish_reason":)");
        appendJsonStringOrNull(out, finish);
        out.append(R"(,"delta":)");
        out.append(delta);
        out.append(R"(,"index":0,"logprobs":null})");
      } else {
        out.append(R"({"index":0,"delta":)");
        out.append(delta);
        if (c.dialect != Dialect::kMistral) out.append(R"(,"logprobs":null)");
        out.append(R"(,"finish_reason":)");
        appendJsonStringOrNull(out, finish);
        out.push_back('}');
      }
    }
    out.push_back(']');
  };
  auto appendUsageField = [&] {
    if (usage == UsageField::kNull) {
      out.append(R"(,"usage":null)");
    } else if (usage == UsageField::kFull) {
      out.append(R"(,"usage":)");
      appendUsage(out, c);
    }
  };
  out.append("data: {");
  if (c.dialect == Dialect::kDashScope) {
    appendChoices();
    out.append(R"(,"object":"chat.completion.chunk")");
    appendUsageField();
    out.append(R"(,"created":)");
    appendInt(out, c.created);
    out.append(R"(,"system_fingerprint":null,"model":)");
    appendJsonString(out, c.model);
    out.append(R"(,"id":)");
    appendJsonString(out, c.id);
  } else {
    out.append(R"("id":)");
    appendJsonString(out, c.id);
    out.append(R"(,"object":"chat.completion.chunk","created":)");
    appendInt(out, c.created);
    out.append(R"(,"model":)");
    appendJsonString(out, c.model);
    if (c.dialect != Dialect::kMistral) {
      out.append(R"(,"system_fingerprint":)");
      appendJsonString(out,
                       c.dialect == Dialect::kDeepSeek ? kDeepSeekFingerprint : kOpenAiFingerprint);
    }
    out.push_back(',');
    appendChoices();
    appendUsageField();
  }
  out.append("}\n\n");
  s.events.push_back({begin, out.size(), content});
}

}  // namespace

void appendOpenAiStyleBody(const Completion& c, std::string& out) {
  switch (c.dialect) {
    case Dialect::kDashScope:
      out.append(R"({"choices":[{"message":)");
      appendMessage(out, c);
      out.append(R"(,"finish_reason":)");
      appendJsonString(out, c.finish_reason);
      out.append(R"(,"index":0,"logprobs":null}],"object":"chat.completion","usage":)");
      appendUsage(out, c);
      out.append(R"(,"created":)");
      appendInt(out, c.created);
      out.append(R"(,"system_fingerprint":null,"model":)");
      appendJsonString(out, c.model);
      out.append(R"(,"id":)");
      appendJsonString(out, c.id);
      out.push_back('}');
      return;
    case Dialect::kMistral:
      out.append(R"({"id":)");
      appendJsonString(out, c.id);
      out.append(R"(,"object":"chat.completion","model":)");
      appendJsonString(out, c.model);
      out.append(R"(,"usage":)");
      appendUsage(out, c);
      out.append(R"(,"created":)");
      appendInt(out, c.created);
      out.append(R"(,"choices":[{"index":0,"message":)");
      appendMessage(out, c);
      out.append(R"(,"finish_reason":)");
      appendJsonString(out, c.finish_reason);
      out.append("}]}");
      return;
    case Dialect::kOpenAi:
    case Dialect::kDeepSeek:
    case Dialect::kAnthropic:
      break;
  }
  out.append(R"({"id":)");
  appendJsonString(out, c.id);
  out.append(R"(,"object":"chat.completion","created":)");
  appendInt(out, c.created);
  out.append(R"(,"model":)");
  appendJsonString(out, c.model);
  out.append(R"(,"choices":[{"index":0,"message":)");
  appendMessage(out, c);
  out.append(R"(,"logprobs":null,"finish_reason":)");
  appendJsonString(out, c.finish_reason);
  out.append(R"(}],"usage":)");
  appendUsage(out, c);
  out.append(R"(,"system_fingerprint":)");
  appendJsonString(out,
                   c.dialect == Dialect::kDeepSeek ? kDeepSeekFingerprint : kOpenAiFingerprint);
  out.push_back('}');
}

void appendOpenAiStyleStream(const Completion& c, StreamScript& s) {
  const UsageField early = c.include_usage ? UsageField::kNull : UsageField::kAbsent;
  // DeepSeek and Mistral put usage on the finish chunk, always; OpenAI and
  // DashScope send a separate `choices: []` chunk, only with include_usage.
  const bool usage_on_finish = c.dialect == Dialect::kDeepSeek || c.dialect == Dialect::kMistral;
  const bool reasoning = streamsReasoning(c.dialect) && !c.reasoning.empty();
  std::string delta;

  switch (c.dialect) {
    case Dialect::kOpenAi:
      delta = c.tool_call ? R"({"role":"assistant","content":null,"refusal":null})"
                          : R"({"role":"assistant","content":"","refusal":null})";
      break;
    case Dialect::kDashScope:
      delta = reasoning ? R"({"content":null,"role":"assistant","reasoning_content":""})"
                        : R"({"content":"","role":"assistant"})";
      break;
    case Dialect::kDeepSeek:
      delta = reasoning ? R"({"role":"assistant","content":null,"reasoning_content":""})"
                        : R"({"role":"assistant","content":""})";
      break;
    case Dialect::kMistral:
    case Dialect::kAnthropic:
      delta = R"({"role":"assistant","content":""})";
      break;
  }
  appendChunk(s, c, delta, "", early, false);

  if (reasoning) {
    for (size_t i = 0; i < c.reasoning.size(); ++i) {
      delta = R"({"content":null,"reasoning_content":)";
      appendWordJson(delta, c.reasoning[i], i == 0);
      delta.push_back('}');
      appendChunk(s, c, delta, "", early, true);
    }
  }
  for (size_t i = 0; i < c.words.size(); ++i) {
    delta = R"({"content":)";
    appendWordJson(delta, c.words[i], i == 0);
    if (reasoning) delta.append(R"(,"reasoning_content":null)");
    delta.push_back('}');
    appendChunk(s, c, delta, "", early, true);
  }
  if (c.tool_call) {
    const ToolCall& t = *c.tool_call;
    delta = R"({"tool_calls":[{"index":0,"id":)";
    appendJsonString(delta, t.id);
    delta.append(R"(,"type":"function","function":{"name":)");
    appendJsonString(delta, t.name);
    delta.append(R"(,"arguments":""}}]})");
    appendChunk(s, c, delta, "", early, false);
    for (const std::string_view piece : argumentFragments(t.arguments)) {
      delta = R"({"tool_calls":[{"index":0,"function":{"arguments":)";
      appendJsonString(delta, piece);
      delta.append("}}]}");
      appendChunk(s, c, delta, "", early, true);
    }
  }

  if (c.dialect == Dialect::kOpenAi) {
    delta = "{}";
  } else {
    delta = reasoning ? R"({"content":"","reasoning_content":null})" : R"({"content":""})";
  }
  appendChunk(s, c, delta, c.finish_reason, usage_on_finish ? UsageField::kFull : early, false);
  if (!usage_on_finish && c.include_usage) {
    appendChunk(s, c, "", "", UsageField::kFull, false, /*no_choices=*/true);
  }
  const size_t begin = s.bytes.size();
  s.bytes.append("data: [DONE]\n\n");
  s.events.push_back({begin, s.bytes.size(), false});
}

}  // namespace llmgate::fakellm::detail
