#include "tests/fakes/fakellm/chat_request.h"

#include <algorithm>
#include <array>
#include <boost/json/serialize.hpp>

#include "common/text/str_cat.h"
#include "tests/fakes/fakellm/answer.h"

namespace llmgate::fakellm {
namespace {

namespace json = boost::json;

void appendText(const json::value& v, std::string& out) {
  if (const auto* s = v.if_string()) {
    out.append(*s);
    return;
  }
  const auto* parts = v.if_array();
  if (parts == nullptr) return;
  for (const auto& part : *parts) {
    if (const auto* s = part.if_string()) {
      out.append(*s);
      continue;
    }
    const auto* obj = part.if_object();
    if (obj == nullptr) continue;
    if (const auto* text = obj->if_contains("text"); text != nullptr && text->is_string()) {
      out.append(text->get_string());
    } else if (const auto* inner = obj->if_contains("content")) {
      appendText(*inner, out);  // Anthropic tool_result blocks
    }
  }
}

std::optional<int64_t> readCount(const json::object& obj, std::string_view key) {
  const auto* v = obj.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(std::min<uint64_t>(v->get_uint64(), INT64_MAX));
  if (v->is_double()) return static_cast<int64_t>(v->get_double());
  return std::nullopt;
}

bool isMistralToolId(std::string_view id) {
  return id.size() == 9 && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
         });
}

// Fields Mistral's strict (pydantic `extra=forbid`) schema accepts (§5).
constexpr std::array<std::string_view, 19> kMistralFields = {
    "model",
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
    "metadata",
};

std::optional<ErrorSpec> mistralExtraField(const json::object& body) {
  for (const auto& [key, value] : body) {
    if (std::find(kMistralFields.begin(), kMistralFields.end(), std::string_view(key)) !=
        kMistralFields.end()) {
      continue;
    }
    ErrorSpec e;
    e.status = 422;
    e.type = "invalid_request_error";
    std::string detail = R"({"detail":[{"type":"extra_forbidden","loc":["body",)";
    detail.append(json::serialize(json::value(key)));
    detail.append(R"(],"msg":"Extra inputs are not permitted","input":)");
    detail.append(json::serialize(value));
    detail.append("}]}");
    e.message_json = std::move(detail);
    return e;
  }
  return std::nullopt;
}

std::optional<ErrorSpec> mistralBadToolId(std::string_view id) {
  if (isMistralToolId(id)) return std::nullopt;
  ErrorSpec e;
  e.status = 400;
  e.type = "invalid_function_call";
  e.code = "3280";
  e.message = strCat("Tool call id was ", id, " but must be a-z, A-Z, 0-9, with a length of 9.");
  return e;
}

void readTools(const json::object& body, Dialect dialect, ChatRequest& out) {
  const auto* tools = body.if_contains("tools");
  if (tools == nullptr || !tools->is_array()) return;
  for (const auto& t : tools->get_array()) {
    const auto* obj = t.if_object();
    if (obj == nullptr) continue;
    if (dialect != Dialect::kAnthropic) {
      const auto* fn = obj->if_contains("function");
      obj = fn != nullptr ? fn->if_object() : nullptr;
      if (obj == nullptr) continue;
    }
    const auto* name = obj->if_contains("name");
    if (name == nullptr || !name->is_string()) continue;
    const auto* schema =
        obj->if_contains(dialect == Dialect::kAnthropic ? "input_schema" : "parameters");
    out.tools.push_back({name->get_string(), schema != nullptr ? schema->if_object() : nullptr});
  }
}

}  // namespace

std::string contentText(const json::value& content) {
  std::string out;
  appendText(content, out);
  return out;
}

ChatRequest readChatRequest(const json::value& body_value, Dialect dialect, bool strict) {
  ChatRequest req;
  req.content_hash = kFnvOffset;
  const auto* body = body_value.if_object();
  if (body == nullptr) {
    req.invalid = invalidRequestError(dialect, "The request body must be a JSON object.");
    return req;
  }
  if (const auto* m = body->if_contains("model"); m != nullptr && m->is_string()) {
    req.model = m->get_string();
  } else {
    req.invalid = invalidRequestError(dialect, dialect == Dialect::kAnthropic
                                                   ? "model: Field required"
                                                   : "you must provide a model parameter");
  }
  if (const auto* s = body->if_contains("stream"); s != nullptr && s->is_bool()) {
    req.stream = s->get_bool();
  }
  if (const auto* so = body->if_contains("stream_options"); so != nullptr && so->is_object()) {
    if (const auto* iu = so->get_object().if_contains("include_usage");
        iu != nullptr && iu->is_bool()) {
      req.include_usage = iu->get_bool();
    }
  }
  req.max_tokens = readCount(*body, "max_tokens");
  if (dialect != Dialect::kAnthropic) {
    if (auto mct = readCount(*body, "max_completion_tokens")) req.max_tokens = mct;
  }
  readTools(*body, dialect, req);

  if (strict && dialect == Dialect::kMistral && !req.invalid)
    req.invalid = mistralExtraField(*body);
  if (strict && dialect == Dialect::kAnthropic && !req.max_tokens && !req.invalid) {
    req.invalid = invalidRequestError(dialect, "max_tokens: Field required");
  }
  if (req.max_tokens && *req.max_tokens < 1 && !req.invalid) {
    req.invalid = invalidRequestError(
        dialect,
        strCat("Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, "
               "but got ",
               *req.max_tokens, " instead."),
        "max_tokens");
  }

  std::string text;
  uint64_t hash = kFnvOffset;
  int64_t tokens = 0;
  auto addMessage = [&](std::string_view role, std::string_view content) {
    hash = fnv1a(role, hash);
    hash = fnv1a("\x1f", hash);
    hash = fnv1a(content, hash);
    hash = fnv1a("\x1e", hash);
    tokens += messageTokens(content);
    req.prefixes.push_back({hash, tokens});
  };

  if (dialect == Dialect::kAnthropic) {
    if (const auto* sys = body->if_contains("system")) {
      text.clear();
      appendText(*sys, text);
      addMessage("system", text);
    }
  }

  const auto* messages_value = body->if_contains("messages");
  const auto* messages = messages_value != nullptr ? messages_value->if_array() : nullptr;
  if (messages == nullptr || messages->empty()) {
    if (!req.invalid) {
      req.invalid =
          invalidRequestError(dialect, "Missing required parameter: 'messages'.", "messages");
    }
    req.content_hash = hash;
    req.prompt_tokens = tokens;
    return req;
  }
  req.prefixes.reserve(req.prefixes.size() + messages->size());
  for (size_t i = 0; i < messages->size(); ++i) {
    const auto* msg = (*messages)[i].if_object();
    const json::value* role_value = msg != nullptr ? msg->if_contains("role") : nullptr;
    if (role_value == nullptr || !role_value->is_string()) {
      if (!req.invalid) {
        req.invalid = invalidRequestError(
            dialect, strCat("messages[", i, "]: missing field `role`"), "messages");
      }
      continue;
    }
    const std::string_view role = role_value->get_string();
    const json::value* content = msg->if_contains("content");
    std::string_view content_text;
    if (content != nullptr && content->is_string()) {
      content_text = content->get_string();  // the common case: no copy
    } else {
      text.clear();
      if (content != nullptr) appendText(*content, text);
      content_text = text;
    }
    addMessage(role, content_text);
    if (role == "user") req.last_user_text.assign(content_text);

    if (!strict || req.invalid) continue;
    if (dialect == Dialect::kDeepSeek) {
      if (role == "developer") {
        req.invalid = invalidRequestError(
            dialect, strCat("Failed to deserialize the JSON body into the target type: "
                            "messages[",
                            i,
                            "]: unknown variant `developer`, expected one of `system`, "
                            "`user`, `assistant`, `tool`, `latest_reminder`"));
      } else if (content != nullptr && content->is_array()) {
        req.invalid = invalidRequestError(
            dialect, strCat("Failed to deserialize the JSON body into the target type: "
                            "messages[",
                            i, "]: invalid type: sequence, expected a string"));
      }
    } else if (dialect == Dialect::kAnthropic && role != "user" && role != "assistant") {
      req.invalid = invalidRequestError(
          dialect, strCat("messages: Unexpected role \"", role,
                          "\". The Messages API accepts a top-level `system` parameter, "
                          "not \"system\" as an input message role."));
    } else if (dialect == Dialect::kMistral) {
      if (const auto* id = msg->if_contains("tool_call_id"); id != nullptr && id->is_string()) {
        req.invalid = mistralBadToolId(id->get_string());
      }
      if (const auto* calls = msg->if_contains("tool_calls");
          calls != nullptr && calls->is_array() && !req.invalid) {
        for (const auto& call : calls->get_array()) {
          const auto* id = call.is_object() ? call.get_object().if_contains("id") : nullptr;
          if (id != nullptr && id->is_string()) {
            req.invalid = mistralBadToolId(id->get_string());
            if (req.invalid) break;
          }
        }
      }
    }
  }
  req.content_hash = hash;
  req.prompt_tokens = tokens;
  return req;
}

}  // namespace llmgate::fakellm
