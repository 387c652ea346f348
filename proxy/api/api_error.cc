#include "proxy/api/api_error.h"

#include "boost/json/serialize.hpp"
#include "common/text/str_cat.h"

namespace llmgate::proxy::api {
namespace {

// Client-provided text echoed in messages is cut and stripped of control bytes.
std::string sanitize(std::string_view text, size_t limit = 120) {
  std::string out;
  for (char c : text.substr(0, limit)) {
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  }
  if (text.size() > limit) out += "...";
  return out;
}

}  // namespace

std::string ApiError::body() const {
  boost::json::object error;
  error["message"] = message;
  error["type"] = type;
  error["param"] = param ? boost::json::value(*param) : boost::json::value(nullptr);
  error["code"] = code;
  if (provider_error) error["provider_error"] = *provider_error;
  boost::json::object root;
  root["error"] = std::move(error);
  return boost::json::serialize(root);
}

std::string ApiError::sseEvent() const { return strCat("data: ", body(), "\n\n"); }

ApiError ApiError::invalidRequest(std::string message, std::optional<std::string> param,
                                  std::string code) {
  return ApiError{.status = 400,
                  .type = "invalid_request_error",
                  .code = std::move(code),
                  .message = std::move(message),
                  .param = std::move(param)};
}

ApiError ApiError::invalidJson(std::string detail) {
  return invalidRequest(strCat("We could not parse the JSON body of your request (", detail,
                               "). Send a single JSON object with Content-Type: application/json."),
                        std::nullopt, "invalid_json");
}

ApiError ApiError::badRequest(std::string message) {
  ApiError e = invalidRequest(std::move(message), std::nullopt, "bad_request");
  e.close_connection = true;
  return e;
}

ApiError ApiError::unknownUrl(std::string_view method, std::string_view target) {
  ApiError e =
      invalidRequest(strCat("Unknown request URL: ", sanitize(method), " ", sanitize(target),
                            ". llmgate serves POST /v1/chat/completions, POST /v1/embeddings and "
                            "GET /v1/models."),
                     std::nullopt, "unknown_url");
  e.status = 404;
  return e;
}

ApiError ApiError::methodNotAllowed(std::string_view method, std::string_view target) {
  ApiError e = invalidRequest(
      strCat("Method ", sanitize(method), " is not allowed on ", sanitize(target), "."),
      std::nullopt, "method_not_allowed");
  e.status = 405;
  return e;
}

ApiError ApiError::modelNotFound(std::string_view model) {
  ApiError e = invalidRequest(
      strCat("The model `", sanitize(model),
             "` does not exist or is not configured in llmgate. GET /v1/models lists the "
             "models and route aliases you can use."),
      "model", "model_not_found");
  e.status = 404;
  return e;
}

ApiError ApiError::tooLarge(std::uint64_t limit) {
  ApiError e = invalidRequest(
      strCat("Request body too large: the limit is ", limit, " bytes (server.max_request_bytes)."),
      std::nullopt, "request_too_large");
  e.status = 413;
  e.close_connection = true;
  return e;
}

ApiError ApiError::headersTooLarge() {
  ApiError e = invalidRequest(
      "Request headers too large (server.max_header_bytes). Send fewer or shorter headers.",
      std::nullopt, "request_header_too_large");
  e.status = 431;
  e.close_connection = true;
  return e;
}

ApiError ApiError::unsupportedMediaType(std::string_view content_type) {
  ApiError e = invalidRequest(strCat("Unsupported Content-Type `", sanitize(content_type),
                                     "`: send the body as application/json."),
                              std::nullopt, "unsupported_media_type");
  e.status = 415;
  return e;
}

ApiError ApiError::invalidApiKey() {
  ApiError e = invalidRequest(
      "Missing or invalid API key. Send `Authorization: Bearer <key>` with a key configured "
      "in llmgate's `clients:`.",
      std::nullopt, "invalid_api_key");
  e.status = 401;
  return e;
}

ApiError ApiError::upstream(int status, std::string code, std::string message) {
  return ApiError{.status = status,
                  .type = "upstream_error",
                  .code = std::move(code),
                  .message = std::move(message)};
}

ApiError ApiError::shuttingDown() {
  return ApiError{.status = 503,
                  .type = "server_error",
                  .code = "server_shutting_down",
                  .message = "llmgate is shutting down; retry on another instance.",
                  .retry_after = "1"};
}

}  // namespace llmgate::proxy::api
