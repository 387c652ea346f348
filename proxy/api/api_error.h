// The one error type the data plane answers with: OpenAI's envelope
// {"error": {"message", "type", "param", "code"}} plus, for provider errors,
// the provider's own body under error.provider_error (docs/ERRORS.md).
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "boost/json/value.hpp"

namespace llmgate::proxy::api {

struct ApiError {
  int status = 500;
  std::string type;
  std::string code;
  std::string message;
  std::optional<std::string> param;
  std::optional<boost::json::value> provider_error;
  std::optional<std::string> retry_after;  // passed on as Retry-After
  bool close_connection = false;           // the request was not fully read

  // The JSON body: {"error": {...}}.
  std::string body() const;
  // The SSE terminal event for a stream that already started: "data: {...}\n\n".
  std::string sseEvent() const;

  static ApiError invalidRequest(std::string message, std::optional<std::string> param,
                                 std::string code = "invalid_request_error");
  static ApiError invalidJson(std::string detail);
  static ApiError badRequest(std::string message);
  static ApiError unknownUrl(std::string_view method, std::string_view target);
  static ApiError methodNotAllowed(std::string_view method, std::string_view target);
  static ApiError modelNotFound(std::string_view model);
  static ApiError tooLarge(std::uint64_t limit);
  static ApiError headersTooLarge();
  static ApiError unsupportedMediaType(std::string_view content_type);
  static ApiError invalidApiKey();
  static ApiError upstream(int status, std::string code, std::string message);
  static ApiError shuttingDown();
};

// Result of a step that either yields a value or an error to answer with.
template <typename T>
using ApiResult = std::variant<T, ApiError>;

}  // namespace llmgate::proxy::api
