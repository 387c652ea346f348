#include "proxy/api/chat_request.h"

#include "boost/json/monotonic_resource.hpp"
#include "boost/json/parse.hpp"
#include "common/json/strict_parse.h"
#include "common/text/str_cat.h"
#include "proxy/api/chat_request_scanner.h"
#include "proxy/api/request_checks.h"

namespace llmgate::proxy::api {
namespace {

namespace json = boost::json;

// A request body's top-level object, allocated in `arena` (created here).
ApiResult<json::object> parseBodyObject(std::string_view body, JsonArena& arena) {
  if (body.empty()) return ApiError::invalidJson("the body is empty");
  // One arena per request body: the DOM's nodes are bump-allocated and freed
  // at once with the request, instead of one malloc/free each.
  arena = std::make_unique<json::monotonic_resource>(2 * body.size() + 1024);
  llmgate::json::StrictParseResult parsed =
      llmgate::json::parseStrict(body, detail::kMaxJsonDepth, json::storage_ptr(arena.get()));
  if (!parsed.ok) return ApiError::invalidJson(parsed.error);
  if (!parsed.value.is_object()) {
    return ApiError::invalidJson(strCat(
        "the top level is ", kindName(JsonScalar::of(&parsed.value).kind), ", not an object"));
  }
  return std::move(parsed.value.get_object());
}

}  // namespace

JsonScalar JsonScalar::of(const json::value* v) {
  if (v == nullptr) return {};
  switch (v->kind()) {
    case json::kind::null:
      return {.kind = Kind::kNull};
    case json::kind::bool_:
      return {.kind = Kind::kBool, .boolean = v->get_bool()};
    case json::kind::int64:
      return {.kind = Kind::kInt64, .int64 = v->get_int64()};
    case json::kind::uint64:
      return {.kind = Kind::kUint64, .uint64 = v->get_uint64()};
    case json::kind::double_:
      return {.kind = Kind::kDouble, .number = v->get_double()};
    case json::kind::string:
      return {.kind = Kind::kString};
    case json::kind::array:
      return {.kind = Kind::kArray};
    case json::kind::object:
      return {.kind = Kind::kObject};
  }
  return {};
}

std::string_view kindName(JsonScalar::Kind kind) {
  using Kind = JsonScalar::Kind;
  switch (kind) {
    case Kind::kNull:
      return "null";
    case Kind::kBool:
      return "a boolean";
    case Kind::kInt64:
    case Kind::kUint64:
    case Kind::kDouble:
      return "a number";
    case Kind::kString:
      return "a string";
    case Kind::kArray:
      return "an array";
    case Kind::kObject:
      return "an object";
    case Kind::kAbsent:
      break;
  }
  return "a value";
}

std::optional<double> JsonScalar::asNumber() const {
  if (kind == Kind::kInt64) return static_cast<double>(int64);
  if (kind == Kind::kUint64) return static_cast<double>(uint64);
  if (kind == Kind::kDouble) return number;
  return std::nullopt;
}

const json::object& ChatRequest::body() const {
  if (!body_) {
    // The text passed the validation pass, which refuses what parseStrict
    // refuses (duplicate keys, nesting over 64, a top level that is not an
    // object): Boost.JSON's own parser, without the duplicate-key checks,
    // gives the same DOM and cannot fail here.
    arena_ = std::make_unique<json::monotonic_resource>(2 * text_.size() + 1024);
    json::parse_options options;
    options.max_depth = detail::kMaxJsonDepth;
    boost::system::error_code ec;
    json::value parsed = json::parse(text_, ec, json::storage_ptr(arena_.get()), options);
    if (!ec && parsed.is_object()) {
      body_.emplace(std::move(parsed.get_object()));  // moved in: same storage, no copy
    } else {
      body_.emplace(json::storage_ptr(arena_.get()));
    }
  }
  return *body_;
}

ApiResult<ChatRequest> parseChatRequest(std::string_view body) {
  if (body.empty()) return ApiError::invalidJson("the body is empty");
  ChatRequest req;
  req.text_ = body;
  if (auto error = detail::scanChatRequest(body, req)) return std::move(*error);
  return req;
}

ApiResult<EmbeddingsRequest> parseEmbeddingsRequest(std::string_view body) {
  JsonArena arena;
  auto object = parseBodyObject(body, arena);
  if (auto* e = std::get_if<ApiError>(&object)) return std::move(*e);
  EmbeddingsRequest req{.arena = std::move(arena),
                        .body = std::move(std::get<json::object>(object))};
  const json::value* model = req.body.if_contains("model");
  if (model == nullptr) return detail::modelRequired();
  if (!model->is_string() || !detail::validModelName(model->get_string())) {
    return detail::modelNotAString();
  }
  req.model = std::string(model->get_string());
  for (std::string_view key : detail::kForbiddenFields) {
    if (req.body.contains(key)) return detail::forbiddenParameter("", key);
  }
  const json::value* input = req.body.if_contains("input");
  if (input == nullptr || !(input->is_string() || input->is_array())) {
    return ApiError::invalidRequest("`input` is required: a string or an array.", "input");
  }
  return req;
}

}  // namespace llmgate::proxy::api
