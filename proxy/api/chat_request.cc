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

// A request body's top-level object, allocated in `arena` (created here).
ApiResult<json::object> parseBodyObject(std::string_view body, JsonArena& arena) {
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
  return std::move(parsed.value.get_object());
}

}  // namespace

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
    options.max_depth = 64;
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
