// Anthropic Messages bodies and SSE events (PROVIDERS.md §3.2, §3.3).
#include "tests/fakes/fakellm/completion.h"
#include "tests/fakes/fakellm/json_text.h"

namespace llmgate::fakellm::detail {
namespace {

constexpr std::string_view kSignature =
    "EqQBCkYIBRgCIkBmYWtlbGxtIHRoaW5raW5nIHNpZ25hdHVyZSBmb3IgdGVzdHMgb25seQ==";

void appendEvent(StreamScript& s, std::string_view name, bool content, auto&& write_data) {
  const size_t begin = s.bytes.size();
  s.bytes.append("event: ");
  s.bytes.append(name);
  s.bytes.append("\ndata: ");
  write_data(s.bytes);
  s.bytes.append("\n\n");
  s.events.push_back({begin, s.bytes.size(), content});
}

void appendBlockStart(StreamScript& s, int index, std::string_view block) {
  appendEvent(s, "content_block_start", false, [&](std::string& out) {
    out.append(R"({"type":"content_block_start","index":)");
    appendInt(out, index);
    out.append(R"(,"content_block":)");
    out.append(block);
    out.push_back('}');
  });
}

// `piece` is a vocabulary word (`first`: the first of its block) or, when not
// `is_word`, any text (a fragment of tool arguments).
void appendDelta(StreamScript& s, int index, std::string_view delta_type, std::string_view field,
                 std::string_view piece, bool is_word, bool first) {
  appendEvent(s, "content_block_delta", true, [&](std::string& out) {
    out.append(R"({"type":"content_block_delta","index":)");
    appendInt(out, index);
    out.append(R"(,"delta":{"type":")");
    out.append(delta_type);
    out.append(R"(",")");
    out.append(field);
    out.append(R"(":)");
    if (is_word) {
      appendWordJson(out, piece, first);
    } else {
      appendJsonString(out, piece);
    }
    out.append("}}");
  });
}

void appendBlockStop(StreamScript& s, int index) {
  appendEvent(s, "content_block_stop", false, [&](std::string& out) {
    out.append(R"({"type":"content_block_stop","index":)");
    appendInt(out, index);
    out.push_back('}');
  });
}

void appendUsage(std::string& out, const Completion& c, int64_t output_tokens) {
  out.append(R"({"input_tokens":)");
  appendInt(out, c.prompt_tokens);
  out.append(R"(,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,"output_tokens":)");
  appendInt(out, output_tokens);
  out.append(R"(,"service_tier":"standard"})");
}

}  // namespace

void appendAnthropicBody(const Completion& c, std::string& out) {
  out.append(R"({"id":)");
  appendJsonString(out, c.id);
  out.append(R"(,"type":"message","role":"assistant","model":)");
  appendJsonString(out, c.model);
  out.append(R"(,"content":[)");
  bool first = true;
  auto comma = [&] {
    if (!first) out.push_back(',');
    first = false;
  };
  if (!c.reasoning.empty()) {
    comma();
    out.append(R"({"type":"thinking","thinking":)");
    appendWordsJson(out, c.reasoning);
    out.append(R"(,"signature":)");
    appendJsonString(out, kSignature);
    out.push_back('}');
  }
  if (!c.tool_call || !c.words.empty()) {
    comma();
    out.append(R"({"type":"text","text":)");
    appendWordsJson(out, c.words);
    out.push_back('}');
  }
  if (c.tool_call) {
    comma();
    out.append(R"({"type":"tool_use","id":)");
    appendJsonString(out, c.tool_call->id);
    out.append(R"(,"name":)");
    appendJsonString(out, c.tool_call->name);
    out.append(R"(,"input":)");
    out.append(c.tool_call->arguments);
    out.push_back('}');
  }
  out.append(R"(],"stop_reason":)");
  appendJsonString(out, anthropicStopReason(c.finish_reason));
  out.append(R"(,"stop_sequence":null,"usage":{"input_tokens":)");
  appendInt(out, c.prompt_tokens);
  out.append(R"(,"output_tokens":)");
  appendInt(out, c.completionTokens());
  out.append(R"(,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,)"
             R"("service_tier":"standard"}})");
}

void appendAnthropicStream(const Completion& c, StreamScript& s) {
  appendEvent(s, "message_start", false, [&](std::string& out) {
    out.append(R"({"type":"message_start","message":{"id":)");
    appendJsonString(out, c.id);
    out.append(R"(,"type":"message","role":"assistant","model":)");
    appendJsonString(out, c.model);
    out.append(R"(,"content":[],"stop_reason":null,"stop_sequence":null,"usage":)");
    appendUsage(out, c, 1);
    out.append("}}");
  });
  int index = 0;
  bool pinged = false;
  auto pingOnce = [&] {
    if (pinged) return;
    pinged = true;
    appendEvent(s, "ping", false, [](std::string& out) { out.append(R"({"type": "ping"})"); });
  };
  if (!c.reasoning.empty()) {
    appendBlockStart(s, index, R"({"type":"thinking","thinking":"","signature":""})");
    pingOnce();
    for (size_t i = 0; i < c.reasoning.size(); ++i) {
      appendDelta(s, index, "thinking_delta", "thinking", c.reasoning[i], true, i == 0);
    }
    appendEvent(s, "content_block_delta", false, [&](std::string& out) {
      out.append(R"({"type":"content_block_delta","index":)");
      appendInt(out, index);
      out.append(R"(,"delta":{"type":"signature_delta","signature":)");
      appendJsonString(out, kSignature);
      out.append("}}");
    });
    appendBlockStop(s, index++);
  }
  if (!c.tool_call || !c.words.empty()) {
    appendBlockStart(s, index, R"({"type":"text","text":""})");
    pingOnce();
    for (size_t i = 0; i < c.words.size(); ++i) {
      appendDelta(s, index, "text_delta", "text", c.words[i], true, i == 0);
    }
    appendBlockStop(s, index++);
  }
  if (c.tool_call) {
    std::string block = R"({"type":"tool_use","id":)";
    appendJsonString(block, c.tool_call->id);
    block.append(R"(,"name":)");
    appendJsonString(block, c.tool_call->name);
    block.append(R"(,"input":{}})");
    appendBlockStart(s, index, block);
    pingOnce();
    for (const std::string_view piece : argumentFragments(c.tool_call->arguments)) {
      appendDelta(s, index, "input_json_delta", "partial_json", piece, false, false);
    }
    appendBlockStop(s, index++);
  }
  appendEvent(s, "message_delta", false, [&](std::string& out) {
    out.append(R"({"type":"message_delta","delta":{"stop_reason":)");
    appendJsonString(out, anthropicStopReason(c.finish_reason));
    out.append(R"(,"stop_sequence":null},"usage":{"output_tokens":)");
    appendInt(out, c.completionTokens());
    out.append("}}");
  });
  appendEvent(s, "message_stop", false,
              [](std::string& out) { out.append(R"({"type":"message_stop"})"); });
}

}  // namespace llmgate::fakellm::detail
