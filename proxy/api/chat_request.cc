#include "proxy/api/chat_request.h"

#include <array>
#include <cmath>

#include "boost/json/monotonic_resource.hpp"
#include "common/json/strict_parse.h"
#include "common/text/str_cat.h"

namespace llmgate::proxy::api {
namespace {

namespace json = boost::json;

constexpr std::array<std::string_view, 6> kRoles = {"system",    "developer", "user",
                                                    "assistant", "tool",      "function"};

// Fields a client could use to steer the upstream connection or credentials
// (../shared/RELIABILITY.md case 50). Providers never need them from a client.
constexpr std::array<std::string_view, 9> kForbiddenFields = {
    "api_base", "base_url",     "api_key", "extra_headers", "api_version", "custom_llm_provider",
    "provider", "organization", "headers"};

// The top-level members the validation reads, found in one walk over the
// object instead of one lookup each (keys are unique: the strict parser
// refuses duplicates).
enum Field : std::uint8_t {
  // kForbiddenFields, in that order (the first one present is reported)
  kApiBase,
  kBaseUrl,
  kApiKey,
  kExtraHeaders,
  kApiVersion,
  kCustomLlmProvider,
  kProvider,
  kOrganization,
  kHeaders,
  // checked fields
  kModel,
  kMessages,
  kTemperature,
  kTopP,
  kPresencePenalty,
  kFrequencyPenalty,
  kN,
  kMaxTokens,
  kMaxCompletionTokens,
  kSeed,
  kTopLogprobs,
  kStream,
  kLogprobs,
  kStreamOptions,
  kTools,
  kResponseFormat,
  kLogitBias,
  kUser,
  kExtraBody,
  kStop,
  kFieldCount,
  kOtherField = kFieldCount,
};

static_assert(kModel == kForbiddenFields.size(), "the forbidden fields come first, in order");

// The Field named `key`: a switch on the length, then the few names of that
// length.
Field fieldOf(std::string_view key) {
  const auto is = [&](std::string_view name, Field field) {
    return key == name ? field : kOtherField;
  };
  const auto oneOf = [&](std::initializer_list<std::pair<std::string_view, Field>> names) {
    for (const auto& [name, field] : names) {
      if (key == name) return field;
    }
    return kOtherField;
  };
  switch (key.size()) {
    case 1:
      return is("n", kN);
    case 4:
      return oneOf({{"seed", kSeed}, {"user", kUser}, {"stop", kStop}});
    case 5:
      return oneOf({{"model", kModel}, {"top_p", kTopP}, {"tools", kTools}});
    case 6:
      return is("stream", kStream);
    case 7:
      return oneOf({{"api_key", kApiKey}, {"headers", kHeaders}});
    case 8:
      return oneOf({{"messages", kMessages},
                    {"logprobs", kLogprobs},
                    {"api_base", kApiBase},
                    {"base_url", kBaseUrl},
                    {"provider", kProvider}});
    case 10:
      return oneOf(
          {{"max_tokens", kMaxTokens}, {"logit_bias", kLogitBias}, {"extra_body", kExtraBody}});
    case 11:
      return oneOf({{"temperature", kTemperature}, {"api_version", kApiVersion}});
    case 12:
      return oneOf({{"top_logprobs", kTopLogprobs}, {"organization", kOrganization}});
    case 13:
      return is("extra_headers", kExtraHeaders);
    case 14:
      return is("stream_options", kStreamOptions);
    case 15:
      return is("response_format", kResponseFormat);
    case 16:
      return is("presence_penalty", kPresencePenalty);
    case 17:
      return is("frequency_penalty", kFrequencyPenalty);
    case 19:
      return is("custom_llm_provider", kCustomLlmProvider);
    case 21:
      return is("max_completion_tokens", kMaxCompletionTokens);
    default:
      return kOtherField;
  }
}

struct Fields {
  std::array<const json::value*, kFieldCount> at{};
  const json::value* operator[](Field f) const { return at[f]; }
};

Fields fieldsOf(const json::object& o) {
  Fields fields;
  for (const json::key_value_pair& member : o) {
    const Field f = fieldOf(member.key());
    if (f != kOtherField) fields.at[f] = &member.value();
  }
  return fields;
}

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
std::optional<ApiError> checkNumber(const json::value* v, std::string_view key, double lo,
                                    double hi) {
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

std::optional<ApiError> checkInteger(const json::value* v, std::string_view key, std::int64_t lo,
                                     std::int64_t hi) {
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

std::optional<ApiError> checkKind(const json::value* v, std::string_view key, json::kind kind,
                                  std::string_view expected) {
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->kind() != kind) {
    return ApiError::invalidRequest(
        strCat("`", key, "` must be ", expected, ", got ", kindName(*v), "."), std::string(key));
  }
  return std::nullopt;
}

ApiError forbidden(std::string_view where, std::string_view key) {
  return ApiError::invalidRequest(strCat("`", where, key,
                                         "` is not accepted: llmgate chooses the provider, its "
                                         "URL and its credentials from its own configuration."),
                                  strCat(where, key), "forbidden_parameter");
}

std::optional<ApiError> checkForbidden(const json::object& o, std::string_view where) {
  for (std::string_view key : kForbiddenFields) {
    if (o.contains(key)) return forbidden(where, key);
  }
  return std::nullopt;
}

// The same from the fields found at the top level.
std::optional<ApiError> checkForbidden(const Fields& fields) {
  for (std::size_t i = 0; i < kForbiddenFields.size(); ++i) {
    if (fields[static_cast<Field>(i)] != nullptr) return forbidden("", kForbiddenFields[i]);
  }
  return std::nullopt;
}

std::optional<ApiError> checkMessages(const json::value* v) {
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
    // Only an error names the message: no string for the ones that are fine.
    const auto path_of = [i] { return strCat("messages[", i, "]"); };
    if (!messages[i].is_object()) {
      const std::string path = path_of();
      return ApiError::invalidRequest(
          strCat("`", path, "` must be an object, got ", kindName(messages[i]), "."), path);
    }
    const json::value* role = nullptr;
    const json::value* content = nullptr;
    for (const json::key_value_pair& member : messages[i].get_object()) {
      const std::string_view key = member.key();
      if (key == "role") role = &member.value();
      if (key == "content") content = &member.value();
    }
    if (role == nullptr || !role->is_string()) {
      return ApiError::invalidRequest(
          strCat("`", path_of(), ".role` is required and must be a string."),
          strCat(path_of(), ".role"));
    }
    const std::string_view r = role->get_string();
    if (std::find(kRoles.begin(), kRoles.end(), r) == kRoles.end()) {
      return ApiError::invalidRequest(
          strCat("`", path_of(),
                 ".role` must be one of system, developer, user, assistant, "
                 "tool, function."),
          strCat(path_of(), ".role"));
    }
    const bool may_omit_content = r == "assistant" || r == "tool" || r == "function";
    if (content == nullptr || content->is_null()) {
      if (!may_omit_content) {
        return ApiError::invalidRequest(strCat("`", path_of(), ".content` is required."),
                                        strCat(path_of(), ".content"));
      }
    } else if (!content->is_string() && !content->is_array()) {
      return ApiError::invalidRequest(
          strCat("`", path_of(), ".content` must be a string or an array of content parts, got ",
                 kindName(*content), "."),
          strCat(path_of(), ".content"));
    } else if (content->is_array()) {
      const json::array& parts = content->get_array();
      for (size_t j = 0; j < parts.size(); ++j) {
        if (!parts[j].is_object() || !parts[j].get_object().contains("type")) {
          const std::string part_path = strCat(path_of(), ".content[", j, "]");
          return ApiError::invalidRequest(
              strCat("`", part_path, "` must be an object with a `type`."), part_path);
        }
      }
    }
  }
  return std::nullopt;
}

std::optional<ApiError> checkStop(const json::value* v) {
  if (v == nullptr || v->is_null() || v->is_string()) return std::nullopt;
  if (v->is_array() && v->get_array().size() <= 4) {
    bool all_strings = true;
    for (const auto& s : v->get_array()) all_strings = all_strings && s.is_string();
    if (all_strings) return std::nullopt;
  }
  return ApiError::invalidRequest("`stop` must be a string or an array of at most 4 strings.",
                                  "stop");
}

// A request body's top-level object, allocated in `arena` (created here);
// with `key_at`, where the keys it names start in `body`.
ApiResult<json::object> parseBodyObject(std::string_view body, JsonArena& arena,
                                        ChatRequest::KeyOffsets* key_at = nullptr) {
  if (body.empty()) return ApiError::invalidJson("the body is empty");
  // One arena per request body: the DOM's nodes are bump-allocated and freed
  // at once with the request, instead of one malloc/free each.
  arena = std::make_unique<json::monotonic_resource>(2 * body.size() + 1024);
  llmgate::json::StrictParseResult parsed =
      llmgate::json::parseStrict(body, 64, json::storage_ptr(arena.get()));
  if (!parsed.ok) return ApiError::invalidJson(parsed.error);
  if (!parsed.value.is_object()) {
    return ApiError::invalidJson(
        strCat("the top level is ", kindName(parsed.value), ", not an object"));
  }
  if (key_at != nullptr) {
    for (std::string_view key : parsed.top_level_keys) {
      // A key view points at its first character, just after the quote.
      const std::size_t at = static_cast<std::size_t>(key.data() - body.data()) - 1;
      if (key == "model") key_at->model = at;
      if (key == "max_tokens") key_at->max_tokens = at;
      if (key == "max_completion_tokens") key_at->max_completion_tokens = at;
    }
  }
  return std::move(parsed.value.get_object());
}

ApiResult<std::string> requireModel(const json::value* v) {
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

ApiResult<ChatRequest> parseChatRequest(std::string_view body) {
  JsonArena arena;
  ChatRequest::KeyOffsets key_at;
  auto object = parseBodyObject(body, arena, &key_at);
  if (auto* e = std::get_if<ApiError>(&object)) return std::move(*e);
  // Moved in by construction: assigning would copy out of the arena.
  ChatRequest req{.arena = std::move(arena),
                  .body = std::move(std::get<json::object>(object)),
                  .key_at = key_at};
  const Fields f = fieldsOf(req.body);

  auto model = requireModel(f[kModel]);
  if (auto* e = std::get_if<ApiError>(&model)) return std::move(*e);
  req.model = std::move(std::get<std::string>(model));

  // In this order: a body with several mistakes gets the first one's error.
  const auto first_error = [&]() -> std::optional<ApiError> {
    if (auto e = checkForbidden(f)) return e;
    if (auto e = checkMessages(f[kMessages])) return e;
    if (auto e = checkNumber(f[kTemperature], "temperature", 0, 2)) return e;
    if (auto e = checkNumber(f[kTopP], "top_p", 0, 1)) return e;
    if (auto e = checkNumber(f[kPresencePenalty], "presence_penalty", -2, 2)) return e;
    if (auto e = checkNumber(f[kFrequencyPenalty], "frequency_penalty", -2, 2)) return e;
    if (auto e = checkInteger(f[kN], "n", 1, 128)) return e;
    if (auto e = checkInteger(f[kMaxTokens], "max_tokens", 1, 100'000'000)) return e;
    if (auto e = checkInteger(f[kMaxCompletionTokens], "max_completion_tokens", 1, 100'000'000)) {
      return e;
    }
    if (auto e = checkInteger(f[kSeed], "seed", INT64_MIN, INT64_MAX)) return e;
    if (auto e = checkInteger(f[kTopLogprobs], "top_logprobs", 0, 20)) return e;
    if (auto e = checkKind(f[kStream], "stream", json::kind::bool_, "a boolean")) return e;
    if (auto e = checkKind(f[kLogprobs], "logprobs", json::kind::bool_, "a boolean")) return e;
    if (auto e = checkKind(f[kStreamOptions], "stream_options", json::kind::object, "an object")) {
      return e;
    }
    if (auto e = checkKind(f[kTools], "tools", json::kind::array, "an array")) return e;
    if (auto e =
            checkKind(f[kResponseFormat], "response_format", json::kind::object, "an object")) {
      return e;
    }
    if (auto e = checkKind(f[kLogitBias], "logit_bias", json::kind::object, "an object")) return e;
    if (auto e = checkKind(f[kUser], "user", json::kind::string, "a string")) return e;
    if (auto e = checkKind(f[kExtraBody], "extra_body", json::kind::object, "an object")) return e;
    return checkStop(f[kStop]);
  };
  if (auto e = first_error()) return std::move(*e);
  if (const json::value* extra = f[kExtraBody]; extra && extra->is_object()) {
    if (auto e = checkForbidden(extra->get_object(), "extra_body.")) return std::move(*e);
  }

  if (const json::value* v = f[kStream]; v && v->is_bool()) req.stream = v->get_bool();
  if (const json::value* v = f[kStreamOptions]; v && v->is_object()) {
    if (const json::value* inc = v->get_object().if_contains("include_usage")) {
      if (!inc->is_bool()) {
        return ApiError::invalidRequest("`stream_options.include_usage` must be a boolean.",
                                        "stream_options.include_usage");
      }
      req.include_usage = inc->get_bool();
    }
  }
  for (const json::value* v : {f[kMaxCompletionTokens], f[kMaxTokens]}) {
    if (v && !v->is_null()) {
      req.max_tokens = asInteger(*v);
      break;
    }
  }
  return req;
}

ApiResult<EmbeddingsRequest> parseEmbeddingsRequest(std::string_view body) {
  JsonArena arena;
  auto object = parseBodyObject(body, arena);
  if (auto* e = std::get_if<ApiError>(&object)) return std::move(*e);
  EmbeddingsRequest req{.arena = std::move(arena),
                        .body = std::move(std::get<json::object>(object))};
  auto model = requireModel(req.body.if_contains("model"));
  if (auto* e = std::get_if<ApiError>(&model)) return std::move(*e);
  req.model = std::move(std::get<std::string>(model));
  if (auto e = checkForbidden(req.body, "")) return std::move(*e);
  const json::value* input = req.body.if_contains("input");
  if (input == nullptr || !(input->is_string() || input->is_array())) {
    return ApiError::invalidRequest("`input` is required: a string or an array.", "input");
  }
  return req;
}

}  // namespace llmgate::proxy::api
