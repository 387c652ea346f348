#include "proxy/providers/openai_dialects.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace llmgate::proxy::providers {
namespace {

namespace json = boost::json;

void developerToSystem(json::object& message) {
  if (auto* role = message.if_contains("role");
      role && role->is_string() && role->get_string() == "developer") {
    *role = "system";
  }
}

// Only when every part is {type: "text", text: "..."}: images and other parts
// are left for the provider to judge.
void flattenTextParts(json::object& message) {
  json::value* content = message.if_contains("content");
  if (content == nullptr || !content->is_array() || content->get_array().empty()) return;
  std::string text;
  for (const json::value& part : content->get_array()) {
    if (!part.is_object()) return;
    const json::object& p = part.get_object();
    const json::value* type = p.if_contains("type");
    const json::value* t = p.if_contains("text");
    if (type == nullptr || !type->is_string() || type->get_string() != "text" || t == nullptr ||
        !t->is_string()) {
      return;
    }
    if (!text.empty()) text.push_back('\n');
    text.append(t->get_string());
  }
  *content = json::string(text);
}

bool isMistralId(std::string_view id) {
  return id.size() == 9 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
         });
}

void rewriteId(json::value* id) {
  if (id != nullptr && id->is_string()) *id = json::string(mistralToolCallId(id->get_string()));
}

}  // namespace

void prepareDeepSeekBody(json::object& body) {
  json::value* messages = body.if_contains("messages");
  if (messages == nullptr || !messages->is_array()) return;
  for (json::value& m : messages->get_array()) {
    if (!m.is_object()) continue;
    developerToSystem(m.get_object());
    flattenTextParts(m.get_object());
  }
}

std::string mistralToolCallId(std::string_view id) {
  if (isMistralId(id)) return std::string(id);
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a
  for (unsigned char c : id) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  static constexpr std::string_view kAlphabet =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
  std::string out(9, '0');
  for (char& c : out) {  // 62^9 > 2^53: collisions are as rare as 53-bit hashes'
    c = kAlphabet[h % kAlphabet.size()];
    h /= kAlphabet.size();
  }
  return out;
}

void prepareMistralBody(json::object& body) {
  static constexpr std::array<std::string_view, 19> kAllowed = {"model",
                                                                "messages",
                                                                "temperature",
                                                                "top_p",
                                                                "max_tokens",
                                                                "stream",
                                                                "stop",
                                                                "random_seed",
                                                                "response_format",
                                                                "tools",
                                                                "tool_choice",
                                                                "presence_penalty",
                                                                "frequency_penalty",
                                                                "n",
                                                                "safe_prompt",
                                                                "parallel_tool_calls",
                                                                "prompt_mode",
                                                                "prediction",
                                                                "min_tokens"};
  if (json::value* seed = body.if_contains("seed")) {
    if (!body.contains("random_seed")) body["random_seed"] = *seed;
    body.erase("seed");
  }
  if (json::value* limit = body.if_contains("max_completion_tokens")) {
    if (!body.contains("max_tokens")) body["max_tokens"] = *limit;
    body.erase("max_completion_tokens");
  }
  if (json::value* choice = body.if_contains("tool_choice");
      choice && choice->is_string() && choice->get_string() == "required") {
    *choice = "any";
  }
  for (auto it = body.begin(); it != body.end();) {
    const std::string_view key = it->key();
    if (std::find(kAllowed.begin(), kAllowed.end(), key) == kAllowed.end()) {
      it = body.erase(it);
    } else {
      ++it;
    }
  }
  json::value* messages = body.if_contains("messages");
  if (messages == nullptr || !messages->is_array()) return;
  for (json::value& m : messages->get_array()) {
    if (!m.is_object()) continue;
    json::object& message = m.get_object();
    developerToSystem(message);
    message.erase("name");
    const json::value* role = message.if_contains("role");
    const bool assistant = role && role->is_string() && role->get_string() == "assistant";
    if (assistant) {
      message.erase("reasoning_content");
      if (json::value* calls = message.if_contains("tool_calls"); calls && calls->is_array()) {
        for (json::value& call : calls->get_array()) {
          if (call.is_object()) rewriteId(call.get_object().if_contains("id"));
        }
      }
    } else {
      message.erase("tool_calls");
    }
    rewriteId(message.if_contains("tool_call_id"));
  }
}

void mapMistralFinishReasons(json::value& response) {
  json::object* o = response.if_object();
  if (o == nullptr) return;
  json::value* choices = o->if_contains("choices");
  if (choices == nullptr || !choices->is_array()) return;
  for (json::value& choice : choices->get_array()) {
    if (!choice.is_object()) continue;
    json::value* reason = choice.get_object().if_contains("finish_reason");
    if (reason != nullptr && reason->is_string() && reason->get_string() == "model_length") {
      *reason = "length";
    }
  }
}

std::string_view dashScopeRegion(std::string_view host) {
  if (host.starts_with("dashscope-intl.")) return "Singapore (international)";
  if (host.starts_with("dashscope-us.")) return "US (Virginia)";
  if (host.starts_with("dashscope.")) return "China (Beijing)";
  return {};
}

}  // namespace llmgate::proxy::providers
