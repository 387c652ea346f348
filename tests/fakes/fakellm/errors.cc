#include "tests/fakes/fakellm/errors.h"

#include "common/text/str_cat.h"
#include "tests/fakes/fakellm/json_text.h"

namespace llmgate::fakellm {
namespace {

ErrorSpec make(int status, std::string type, std::string message,
               std::optional<std::string> code = std::nullopt,
               std::optional<std::string> param = std::nullopt) {
  ErrorSpec e;
  e.status = status;
  e.type = std::move(type);
  e.message = std::move(message);
  e.code = std::move(code);
  e.param = std::move(param);
  return e;
}

std::string genericMessage(int status) { return strCat("fakellm: scripted HTTP ", status); }

std::string genericType(int status) {
  return status >= 500 ? "server_error" : "invalid_request_error";
}

ErrorSpec openAiError(int status, std::string_view error_type, std::string_view model) {
  if (error_type == "insufficient_quota") {
    return make(status, "insufficient_quota",
                "You exceeded your current quota, please check your plan and billing details. For "
                "more information on this error, read the docs: "
                "https://platform.openai.com/docs/guides/error-codes/api-errors.",
                "insufficient_quota");
  }
  if (error_type == "context_length_exceeded" || (error_type.empty() && status == 400)) {
    return contextLengthError(Dialect::kOpenAi, 128000, 130532, 0);
  }
  if (error_type == "model_not_found" || (error_type.empty() && status == 404)) {
    return make(status, "invalid_request_error",
                strCat("The model `", model, "` does not exist or you do not have access to it."),
                "model_not_found");
  }
  if (error_type == "rate_limit_exceeded" || (error_type.empty() && status == 429)) {
    return make(status, error_type.empty() ? "requests" : std::string(error_type),
                strCat("Rate limit reached for ", model,
                       " in organization org-fakellm on requests per min (RPM): Limit 500, "
                       "Used 500, Requested 1. Please try again in 120ms. Visit "
                       "https://platform.openai.com/account/rate-limits to learn more."),
                "rate_limit_exceeded");
  }
  if (error_type.empty() && status == 401) return authError(Dialect::kOpenAi, "sk-fakellm-wrong");
  if (error_type.empty() && status == 403) {
    return make(status, "request_forbidden", "Country, region, or territory not supported",
                "unsupported_country_region_territory");
  }
  if (error_type.empty() && status == 500) {
    return make(status, "server_error",
                "The server had an error processing your request. Sorry about that! You can retry "
                "your request, or contact us through our help center at help.openai.com if you "
                "keep seeing this error. (Please include the request ID in your email.)");
  }
  if (error_type.empty() && status == 503) {
    return make(status, "server_error", "The server is overloaded or not ready yet.",
                "server_is_overloaded");
  }
  return make(status, error_type.empty() ? genericType(status) : std::string(error_type),
              genericMessage(status));
}

ErrorSpec deepSeekError(int status, std::string_view error_type) {
  ErrorSpec e;
  switch (status) {
    case 400:
      e = contextLengthError(Dialect::kDeepSeek, 131072, 122942, 8192);
      break;
    case 401:
      e = authError(Dialect::kDeepSeek, "sk-fakellm-wrong");
      break;
    case 402:
      e = make(status, "unknown_error", "Insufficient Balance");
      e.detail = "余额不足，请充值";
      break;
    case 422:
      e = make(status, "invalid_request_error",
               "Failed to deserialize the JSON body into the target type: messages[0]: missing "
               "field `content`");
      e.detail = "请求体参数错误，请根据错误信息提示修改相关参数";
      break;
    case 429:
      e = make(status, "rate_limit_reached_error", "Rate Limit Reached");
      e.detail = "请求速率达到上限，请稍后重试";
      break;
    case 500:
      e = make(status, "server_error", "Server Error");
      e.detail = "服务器内部故障，请等待后重试";
      break;
    case 503:
      e = make(status, "server_overloaded_error", "Server Overloaded");
      e.detail = "服务器负载过高，请稍后重试您的请求";
      break;
    default:
      e = make(status, genericType(status), genericMessage(status));
  }
  // DeepSeek's code is (oddly) invalid_request_error on every captured error.
  e.code = "invalid_request_error";
  if (!error_type.empty()) e.type = std::string(error_type);
  return e;
}

ErrorSpec anthropicError(int status, std::string_view error_type, std::string_view model) {
  ErrorSpec e;
  switch (status) {
    case 400:
      e = contextLengthError(Dialect::kAnthropic, 200000, 210000, 0);
      break;
    case 401:
      e = authError(Dialect::kAnthropic, "wrong");
      break;
    case 402:
      e = make(status, "billing_error",
               "Your credit balance is too low to access the Anthropic API. Please go to Plans & "
               "Billing to upgrade or purchase credits.");
      break;
    case 403:
      e = make(status, "permission_error",
               "Your API key does not have permission to use the specified resource.");
      break;
    case 404:
      e = make(status, "not_found_error", strCat("model: ", model));
      break;
    case 409:
      e = make(status, "conflict_error", genericMessage(status));
      break;
    case 413:
      e = make(status, "request_too_large", "Request exceeds the maximum allowed number of bytes.");
      break;
    case 429:
      e = make(status, "rate_limit_error",
               "This request would exceed your organization's rate limit of 30,000 input tokens "
               "per minute");
      break;
    case 529:
      e = make(status, "overloaded_error", "Overloaded");
      break;
    default:
      e = make(status, status >= 500 ? "api_error" : "invalid_request_error",
               status == 500 ? "Internal server error" : genericMessage(status));
  }
  if (!error_type.empty()) e.type = std::string(error_type);
  return e;
}

ErrorSpec dashScopeError(int status, std::string_view error_type) {
  if (status == 429 && error_type == "insufficient_quota") {
    // The per-minute token throttle: quota wording, but it clears within a minute (§4).
    return make(status, "insufficient_quota",
                "You exceeded your current quota, please check your plan and billing details.",
                "insufficient_quota");
  }
  ErrorSpec e;
  switch (status) {
    case 400:
      e = contextLengthError(Dialect::kDashScope, 129024, 130000, 0);
      break;
    case 401:
      e = authError(Dialect::kDashScope, "sk-fakellm-wrong");
      break;
    case 429:
      e = make(status, "limit_requests",
               "You have exceeded your current request limit. For details, see: "
               "https://help.aliyun.com/zh/model-studio/error-code#rate-limit",
               "limit_requests");
      break;
    case 500:
      e = make(status, "internal_error",
               "An internal error has occured, please try again later or contact service support.",
               "internal_error");
      break;
    default:
      e = make(status, genericType(status), genericMessage(status));
  }
  if (!error_type.empty()) e.type = std::string(error_type);
  return e;
}

ErrorSpec mistralError(int status, std::string_view error_type) {
  ErrorSpec e;
  switch (status) {
    case 400:
      e = contextLengthError(Dialect::kMistral, 131072, 140000, 0);
      break;
    case 401:
      e = authError(Dialect::kMistral, "wrong");
      break;
    case 422:
      e = make(status, "invalid_request_error", "");
      e.message_json =
          R"({"detail":[{"type":"extra_forbidden","loc":["body","max_completion_tokens"],)"
          R"("msg":"Extra inputs are not permitted","input":32000}]})";
      break;
    case 429:
      e = make(status, "rate_limited", "Rate limit exceeded", "1300");
      break;
    case 500:
      e = make(status, "internal_server_error", "Internal server error");
      break;
    case 503:
      e = make(status, "invalid_request_error", "Service tier capacity exceeded for this model.");
      break;
    default:
      e = make(status, genericType(status), genericMessage(status));
  }
  if (!error_type.empty()) e.type = std::string(error_type);
  return e;
}

void appendNullable(std::string& out, const std::optional<std::string>& s) {
  if (s) {
    appendJsonString(out, *s);
  } else {
    out.append("null");
  }
}

}  // namespace

ErrorSpec scriptedError(Dialect dialect, int status, std::string_view error_type,
                        std::string_view model) {
  switch (dialect) {
    case Dialect::kOpenAi:
      return openAiError(status, error_type, model);
    case Dialect::kDeepSeek:
      return deepSeekError(status, error_type);
    case Dialect::kAnthropic:
      return anthropicError(status, error_type, model);
    case Dialect::kDashScope:
      return dashScopeError(status, error_type);
    case Dialect::kMistral:
      return mistralError(status, error_type);
  }
  return openAiError(status, error_type, model);
}

ErrorSpec contextLengthError(Dialect dialect, int64_t window, int64_t prompt_tokens,
                             int64_t completion_tokens) {
  switch (dialect) {
    case Dialect::kOpenAi:
      return make(400, "invalid_request_error",
                  strCat("This model's maximum context length is ", window,
                         " tokens. However, your messages resulted in ", prompt_tokens,
                         " tokens. Please reduce the length of the messages."),
                  "context_length_exceeded", "messages");
    case Dialect::kDeepSeek: {
      // The requested figure counts the completion budget too (§1.6).
      ErrorSpec e = make(400, "invalid_request_error",
                         strCat("This model's maximum context length is ", window,
                                " tokens. However, you "
                                "requested ",
                                prompt_tokens + completion_tokens, " tokens (", prompt_tokens,
                                " in the messages, ", completion_tokens,
                                " in the completion). Please reduce "
                                "the length of the messages or completion."),
                         "invalid_request_error");
      e.detail = "请求体格式错误，请根据错误信息提示修改请求体";
      return e;
    }
    case Dialect::kAnthropic:
      return make(400, "invalid_request_error",
                  strCat("prompt is too long: ", prompt_tokens, " tokens > ", window, " maximum"));
    case Dialect::kDashScope:
      return make(400, "invalid_request_error",
                  strCat("Range of input length should be [1, ", window, "]"),
                  "invalid_parameter_error");
    case Dialect::kMistral:
      return make(400, "invalid_request_error",
                  strCat("Prompt contains ", prompt_tokens,
                         " tokens and 0 draft tokens, too large for model with ", window,
                         " maximum context length"),
                  "3051");
  }
  return make(400, "invalid_request_error", "context length exceeded");
}

ErrorSpec invalidJsonError(Dialect dialect) {
  switch (dialect) {
    case Dialect::kOpenAi:
    case Dialect::kDashScope:
      return make(400, "invalid_request_error",
                  "We could not parse the JSON body of your request. (HINT: This likely means "
                  "you aren't using your HTTP library correctly. The OpenAI API expects a JSON "
                  "payload, but what was sent was not valid JSON. If you have trouble figuring out "
                  "how to fix this, please contact us through our help center at "
                  "help.openai.com.)");
    case Dialect::kDeepSeek: {
      ErrorSpec e = make(400, "invalid_request_error", "Failed to parse the request body as JSON",
                         "invalid_request_error");
      e.detail = "请求体格式错误，请根据错误信息提示修改请求体";
      return e;
    }
    case Dialect::kAnthropic:
      return make(400, "invalid_request_error", "There was an issue with your JSON body.");
    case Dialect::kMistral:
      return make(400, "invalid_request_error", "Invalid JSON body");
  }
  return make(400, "invalid_request_error", "Invalid JSON body");
}

ErrorSpec invalidRequestError(Dialect dialect, std::string message,
                              std::optional<std::string> param) {
  ErrorSpec e =
      make(400, "invalid_request_error", std::move(message), std::nullopt, std::move(param));
  if (dialect == Dialect::kDeepSeek) {
    e.code = "invalid_request_error";
    e.detail = "请求体格式错误，请根据错误信息提示修改请求体";
  }
  return e;
}

ErrorSpec authError(Dialect dialect, std::string_view presented) {
  switch (dialect) {
    case Dialect::kOpenAi: {
      if (presented.empty()) {
        return make(401, "invalid_request_error",
                    "You didn't provide an API key. You need to provide your API key in an "
                    "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), "
                    "or as the password field (with blank username) if you're accessing the API "
                    "from your browser and are prompted for a username. You can obtain an API key "
                    "from https://platform.openai.com/account/api-keys.");
      }
      const std::string masked =
          presented.size() > 12
              ? strCat(presented.substr(0, 8), "***", presented.substr(presented.size() - 4))
              : std::string("***");
      return make(401, "invalid_request_error",
                  strCat("Incorrect API key provided: ", masked,
                         ". You can find your API key at "
                         "https://platform.openai.com/account/api-keys."),
                  "invalid_api_key");
    }
    case Dialect::kDeepSeek: {
      ErrorSpec e = make(
          401, "authentication_error",
          presented.empty()
              ? std::string("Authentication Fails (auth header format should be Bearer sk-...)")
              : strCat("Authentication Fails, Your api key: ****",
                       presented.substr(presented.size() - std::min<size_t>(4, presented.size())),
                       " is invalid"),
          "invalid_request_error");
      e.detail = "API key 错误，认证失败";
      return e;
    }
    case Dialect::kAnthropic:
      return make(401, "authentication_error", "invalid x-api-key");
    case Dialect::kDashScope:
      return make(401, "invalid_request_error", "Incorrect API key provided. ", "invalid_api_key");
    case Dialect::kMistral: {
      ErrorSpec e = make(401, "", "Unauthorized");
      e.bare = true;
      return e;
    }
  }
  return make(401, "invalid_request_error", "Unauthorized");
}

ErrorSpec notFoundError(Dialect dialect, std::string_view path) {
  if (dialect == Dialect::kAnthropic) {
    return make(404, "not_found_error", "Not Found");
  }
  ErrorSpec e = make(404, "invalid_request_error", strCat("Invalid URL (", path, ")"));
  if (dialect == Dialect::kDeepSeek) e.code = "invalid_request_error";
  return e;
}

std::string renderError(Dialect dialect, const ErrorSpec& e, std::string_view request_id) {
  std::string out;
  out.reserve(256 + e.message.size());
  if (dialect == Dialect::kAnthropic) {
    out.append(R"({"type":"error","error":{"type":)");
    appendJsonString(out, e.type);
    out.append(R"(,"message":)");
    appendJsonString(out, e.message);
    out.append(R"(},"request_id":)");
    appendJsonString(out, request_id);
    out.push_back('}');
    return out;
  }
  if (dialect == Dialect::kMistral) {
    if (e.bare) {
      out.append(R"({"message":)");
      appendJsonString(out, e.message);
      out.append(R"(,"request_id":)");
      appendJsonString(out, request_id);
      out.push_back('}');
      return out;
    }
    out.append(R"({"object":"error","message":)");
    if (!e.message_json.empty()) {
      out.append(e.message_json);
    } else {
      appendJsonString(out, e.message);
    }
    out.append(R"(,"type":)");
    appendJsonString(out, e.type);
    out.append(R"(,"param":)");
    appendNullable(out, e.param);
    out.append(R"(,"code":)");
    appendNullable(out, e.code);
    out.push_back('}');
    return out;
  }
  out.append(R"({"error":{"message":)");
  appendJsonString(out, e.message);
  out.append(R"(,"type":)");
  appendJsonString(out, e.type);
  out.append(R"(,"param":)");
  appendNullable(out, e.param);
  out.append(R"(,"code":)");
  appendNullable(out, e.code);
  out.push_back('}');
  if (dialect == Dialect::kDeepSeek && !e.detail.empty()) {
    out.append(R"(,"detail":)");
    appendJsonString(out, e.detail);
  }
  if (dialect == Dialect::kDashScope) {
    out.append(R"(,"request_id":)");
    appendJsonString(out, request_id);
  }
  out.push_back('}');
  return out;
}

void appendStreamErrorEvent(Dialect dialect, std::string& out) {
  if (dialect == Dialect::kAnthropic) {
    out.append(
        "event: error\n"
        R"(data: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"
        "\n\n");
    return;
  }
  out.append(
      R"(data: {"error":{"type":"server_error","code":"server_error","message":"The server had an error while processing your request. Sorry about that!","param":null}})"
      "\n\n");
}

}  // namespace llmgate::fakellm
