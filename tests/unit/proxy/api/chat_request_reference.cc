// parseChatRequest as it was before its validation walked the top-level
// object once (main 995eea0, verbatim but for the names): the reference the
// differential test compares the current one with, error for error.
#include "tests/unit/proxy/api/chat_request_reference.h"

#include <array>
#include <cmath>

#include "boost/json/monotonic_resource.hpp"
#include "common/json/strict_parse.h"
#include "common/text/str_cat.h"

namespace llmgate::proxy::api::reference {
namespace {

namespace json = boost::json;

constexpr std::array<std::string_view, 6> kRoles = {"system",    "developer", "user",
                                                    "assistant", "tool",      "function"};

// Fields a client could use to steer the upstream connection or credentials
// (../shared/RELIABILITY.md case 50). Providers never need them from a client.
constexpr std::array<std::string_view, 9> kForbiddenFields = {
    "api_base", "base_url",     "api_key", "extra_headers", "api_version", "custom_llm_provider",
    "provider", "organization", "headers"};

std::optional<double> asNumber(const json::value& v) {
  if (v.is_int64()) return static_cast<double>(v.get_int64());
  if (v.is_uint64()) return static_cast<double>(v.get_uint64());
  if (v.is_double()) return v.get_double();
  return std::nullopt;
}

std::optional<std::int64_t> asInteger(const json::value& v) {
  if (v.is_int64()) return v.get_int64();
  if (v.is_uint64()) {
    return v.get_uint64() > static_cast<std::uint64_t>(INT64_MAX)
               ? std::optional<std::int64_t>(INT64_MAX)
               : static_cast<std::int64_t>(v.get_uint64());
  }
  if (v.is_double()) {
    const double d = v.get_double();
    if (std::floor(d) == d && std::fabs(d) < 9e15) return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

std::string_view kindName(const json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

// Each check returns an error naming `param` when the field is present and wrong.
std::optional<ApiError> checkNumber(const json::object& o, std::string_view key, double lo,
                                    double hi) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  const auto n = asNumber(*v);
  if (!n) {
    return ApiError::invalidRequest(strCat("`", key, "` must be a number between ", lo, " and ", hi,
                                           ", got ", kindName(*v), "."),
                                    std::string(key));
  }
  if (!(*n >= lo && *n <= hi)) {
    return ApiError::invalidRequest(
        strCat("`", key, "` must be between ", lo, " and ", hi, ", got ", *n, "."),
        std::string(key));
  }
  return std::nullopt;
}

std::optional<ApiError> checkInteger(const json::object& o, std::string_view key, std::int64_t lo,
                                     std::int64_t hi) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  const auto n = asInteger(*v);
  if (!n) {
    return ApiError::invalidRequest(
        strCat("`", key, "` must be an integer, got ", kindName(*v), "."), std::string(key));
  }
  if (*n < lo || *n > hi) {
    return ApiError::invalidRequest(
        strCat("`", key, "` must be between ", lo, " and ", hi, ", got ", *n, "."),
        std::string(key));
  }
  return std::nullopt;
}

std::optional<ApiError> checkKind(const json::object& o, std::string_view key, json::kind kind,
                                  std::string_view expected) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->kind() != kind) {
    return ApiError::invalidRequest(
        strCat("`", key, "` must be ", expected, ", got ", kindName(*v), "."), std::string(key));
  }
  return std::nullopt;
}

std::optional<ApiError> checkForbidden(const json::object& o, std::string_view where) {
  for (std::string_view key : kForbiddenFields) {
    if (o.contains(key)) {
      return ApiError::invalidRequest(
          strCat("`", where, key,
                 "` is not accepted: llmgate chooses the provider, its URL and its "
                 "credentials from its own configuration."),
          strCat(where, key), "forbidden_parameter");
    }
  }
  return std::nullopt;
}

std::optional<ApiError> checkMessages(const json::object& o) {
  const json::value* v = o.if_contains("messages");
  if (v == nullptr) {
    return ApiError::invalidRequest("`messages` is required: an array of chat messages.",
                                    "messages");
  }
  if (!v->is_array()) {
    return ApiError::invalidRequest(strCat("`messages` must be an array, got ", kindName(*v), "."),
                                    "messages");
  }
  const json::array& messages = v->get_array();
  if (messages.empty()) {
    return ApiError::invalidRequest("`messages` must contain at least one message.", "messages");
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    const std::string path = strCat("messages[", i, "]");
    if (!messages[i].is_object()) {
      return ApiError::invalidRequest(
          strCat("`", path, "` must be an object, got ", kindName(messages[i]), "."), path);
    }
    const json::object& m = messages[i].get_object();
    const json::value* role = m.if_contains("role");
    if (role == nullptr || !role->is_string()) {
      return ApiError::invalidRequest(strCat("`", path, ".role` is required and must be a string."),
                                      strCat(path, ".role"));
    }
    const std::string_view r = role->get_string();
    if (std::find(kRoles.begin(), kRoles.end(), r) == kRoles.end()) {
      return ApiError::invalidRequest(
          strCat("`", path,
                 ".role` must be one of system, developer, user, assistant, "
                 "tool, function."),
          strCat(path, ".role"));
    }
    const json::value* content = m.if_contains("content");
    const bool may_omit_content = r == "assistant" || r == "tool" || r == "function";
    if (content == nullptr || content->is_null()) {
      if (!may_omit_content) {
        return ApiError::invalidRequest(strCat("`", path, ".content` is required."),
                                        strCat(path, ".content"));
      }
    } else if (!content->is_string() && !content->is_array()) {
      return ApiError::invalidRequest(
          strCat("`", path, ".content` must be a string or an array of content parts, got ",
                 kindName(*content), "."),
          strCat(path, ".content"));
    } else if (content->is_array()) {
      const json::array& parts = content->get_array();
      for (size_t j = 0; j < parts.size(); ++j) {
        if (!parts[j].is_object() || !parts[j].get_object().contains("type")) {
          const std::string part_path = strCat(path, ".content[", j, "]");
          return ApiError::invalidRequest(
              strCat("`", part_path, "` must be an object with a `type`."), part_path);
        }
      }
    }
  }
  return std::nullopt;
}

std::optional<ApiError> checkStop(const json::object& o) {
  const json::value* v = o.if_contains("stop");
  if (v == nullptr || v->is_null() || v->is_string()) return std::nullopt;
  if (v->is_array() && v->get_array().size() <= 4) {
    bool all_strings = true;
    for (const auto& s : v->get_array()) all_strings = all_strings && s.is_string();
    if (all_strings) return std::nullopt;
  }
  return ApiError::invalidRequest("`stop` must be a string or an array of at most 4 strings.",
                                  "stop");
}

ApiResult<json::object> parseBodyObject(std::string_view body) {
  if (body.empty()) return ApiError::invalidJson("the body is empty");
  // One arena per request body: the DOM's nodes are bump-allocated and freed
  // at once with the request, instead of one malloc/free each.
  llmgate::json::StrictParseResult parsed = llmgate::json::parseStrict(
      body, 64, json::make_shared_resource<json::monotonic_resource>(2 * body.size() + 1024));
  if (!parsed.ok) return ApiError::invalidJson(parsed.error);
  if (!parsed.value.is_object()) {
    return ApiError::invalidJson(
        strCat("the top level is ", kindName(parsed.value), ", not an object"));
  }
  return std::move(parsed.value.get_object());
}

ApiResult<std::string> requireModel(const json::object& o) {
  const json::value* v = o.if_contains("model");
  if (v == nullptr) {
    return ApiError::invalidRequest(
        "`model` is required: a configured model name or route alias (see GET /v1/models).",
        "model");
  }
  if (!v->is_string() || v->get_string().empty() || v->get_string().size() > 256) {
    return ApiError::invalidRequest("`model` must be a non-empty string.", "model");
  }
  return std::string(v->get_string());
}

}  // namespace

ApiResult<ReferenceChatRequest> parseChatRequestReference(std::string_view body) {
  auto object = parseBodyObject(body);
  if (auto* e = std::get_if<ApiError>(&object)) return std::move(*e);
  // Moved in by construction: assigning would copy out of the arena.
  ReferenceChatRequest req{.body = std::move(std::get<json::object>(object))};
  const json::object& o = req.body;

  auto model = requireModel(o);
  if (auto* e = std::get_if<ApiError>(&model)) return std::move(*e);
  req.model = std::move(std::get<std::string>(model));

  for (auto check : {
           checkForbidden(o, ""),
           checkMessages(o),
           checkNumber(o, "temperature", 0, 2),
           checkNumber(o, "top_p", 0, 1),
           checkNumber(o, "presence_penalty", -2, 2),
           checkNumber(o, "frequency_penalty", -2, 2),
           checkInteger(o, "n", 1, 128),
           checkInteger(o, "max_tokens", 1, 100'000'000),
           checkInteger(o, "max_completion_tokens", 1, 100'000'000),
           checkInteger(o, "seed", INT64_MIN, INT64_MAX),
           checkInteger(o, "top_logprobs", 0, 20),
           checkKind(o, "stream", json::kind::bool_, "a boolean"),
           checkKind(o, "logprobs", json::kind::bool_, "a boolean"),
           checkKind(o, "stream_options", json::kind::object, "an object"),
           checkKind(o, "tools", json::kind::array, "an array"),
           checkKind(o, "response_format", json::kind::object, "an object"),
           checkKind(o, "logit_bias", json::kind::object, "an object"),
           checkKind(o, "user", json::kind::string, "a string"),
           checkKind(o, "extra_body", json::kind::object, "an object"),
           checkStop(o),
       }) {
    if (check) return std::move(*check);
  }
  if (const json::value* extra = o.if_contains("extra_body"); extra && extra->is_object()) {
    if (auto e = checkForbidden(extra->get_object(), "extra_body.")) return std::move(*e);
  }

  if (const json::value* v = o.if_contains("stream"); v && v->is_bool()) req.stream = v->get_bool();
  if (const json::value* v = o.if_contains("stream_options"); v && v->is_object()) {
    if (const json::value* inc = v->get_object().if_contains("include_usage")) {
      if (!inc->is_bool()) {
        return ApiError::invalidRequest("`stream_options.include_usage` must be a boolean.",
                                        "stream_options.include_usage");
      }
      req.include_usage = inc->get_bool();
    }
  }
  for (std::string_view key : {"max_completion_tokens", "max_tokens"}) {
    if (const json::value* v = o.if_contains(key); v && !v->is_null()) {
      req.max_tokens = asInteger(*v);
      break;
    }
  }
  return req;
}

}  // namespace llmgate::proxy::api::reference
