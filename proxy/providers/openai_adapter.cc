#include "proxy/providers/openai_adapter.h"

#include <cmath>

#include "boost/json/parse.hpp"
#include "common/text/str_cat.h"
#include "proxy/providers/openai_dialects.h"

namespace llmgate::proxy::providers {
namespace {

namespace http = boost::beast::http;
namespace json = boost::json;

constexpr std::size_t kMaxEchoedProviderBody = 2048;

bool isPrintableAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) return false;
  }
  return true;
}

// The provider's own body, kept for the client under error.provider_error:
// parsed JSON when it is JSON, else a truncated string (HTML error pages).
json::value providerBody(std::string_view body) {
  boost::system::error_code ec;
  json::value parsed = json::parse(body, ec);
  if (!ec && body.size() <= 64 * 1024) return parsed;
  std::string text(body.substr(0, kMaxEchoedProviderBody));
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\n') c = ' ';
  }
  if (body.size() > kMaxEchoedProviderBody) text += "...";
  return json::value(text);
}

// error.message / error.type / error.code of OpenAI's envelope; Mistral puts
// them at the top level.
struct ProviderFields {
  std::string message;
  std::string type;
  std::string code;
};

// DeepSeek adds hints in Chinese (a `detail` field or the message itself).
// Known ones get an English rendering; unknown ones a generic pointer.
struct KnownHint {
  std::string_view chinese;
  std::string_view english;
};
constexpr KnownHint kDeepSeekHints[] = {
    {"余额不足", "the account balance is insufficient; top it up"},
    {"充值", "the account needs a top-up"},
    {"请求过于频繁", "requests are too frequent; slow down"},
    {"速率限制", "the rate limit was reached"},
    {"服务器繁忙", "the server is busy; retry shortly"},
    {"服务繁忙", "the service is busy; retry shortly"},
    {"模型不存在", "the model does not exist"},
    {"上下文长度", "the context length was exceeded; shorten the messages or max_tokens"},
    {"参数错误", "a request parameter is invalid"},
    {"认证失败", "authentication failed (the provider key)"},
    {"内容安全", "the content was blocked by the provider's safety filter"},
};

// The English reading of any non-ASCII hint in the provider's body, or "".
std::string englishHint(std::string_view body) {
  for (const KnownHint& hint : kDeepSeekHints) {
    if (body.find(hint.chinese) != std::string_view::npos) {
      return strCat(" The provider's hint (translated): ", hint.english, ".");
    }
  }
  for (unsigned char c : body) {
    if (c >= 0x80) {
      return " The provider added a hint in another language; see error.provider_error.";
    }
  }
  return {};
}

// The provider's body with our key for it removed, should the provider echo it.
std::string redactKey(std::string_view body, const config::ProviderConfig& provider) {
  std::string text(body);
  const std::string& key = provider.api_key.value;
  if (key.size() < 8) return text;
  for (std::size_t at = text.find(key); at != std::string::npos; at = text.find(key, at)) {
    text.replace(at, key.size(), "***");
  }
  return text;
}

ProviderFields providerFields(const json::value& body) {
  ProviderFields f;
  if (!body.is_object()) return f;
  const json::object* o = &body.get_object();
  if (const json::value* e = o->if_contains("error"); e && e->is_object()) o = &e->get_object();
  auto str = [&](std::string_view key) -> std::string {
    const json::value* v = o->if_contains(key);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
  };
  f.message = str("message");
  f.type = str("type");
  f.code = str("code");
  return f;
}

// Retry-After as the client should see it: the provider's header, else
// retry-after-ms rounded up to seconds.
std::optional<std::string> retryAfter(const http::fields& headers) {
  if (auto it = headers.find("retry-after");
      it != headers.end() && !it->value().empty() && it->value().size() < 64) {
    return std::string(it->value());
  }
  if (auto it = headers.find("retry-after-ms"); it != headers.end()) {
    char* end = nullptr;
    const std::string text(it->value());
    const double ms = std::strtod(text.c_str(), &end);
    if (end != text.c_str() && std::isfinite(ms) && ms >= 0 && ms < 1e9) {
      return std::to_string(static_cast<long long>(std::ceil(ms / 1000.0)));
    }
  }
  return std::nullopt;
}

}  // namespace

std::string OpenAiAdapter::chatPath(const config::ProviderConfig& provider) const {
  return strCat(provider.endpoint.base_path, "/chat/completions");
}

std::string OpenAiAdapter::embeddingsPath(const config::ProviderConfig& provider) const {
  return strCat(provider.endpoint.base_path, "/embeddings");
}

void OpenAiAdapter::prepareChatBody(json::object& body, const config::ModelConfig& model) const {
  body["model"] = model.upstream_model;
  // Mistral answers 422 to stream_options (usage always comes on its last
  // chunk) and to every other field outside its whitelist.
  if (kind_ == config::ProviderKind::kMistral) prepareMistralBody(body);
  if (kind_ == config::ProviderKind::kDeepSeek) prepareDeepSeekBody(body);
}

bool OpenAiAdapter::translateResponse(json::value& response) const {
  if (kind_ == config::ProviderKind::kMistral) mapMistralFinishReasons(response);
  return true;
}

void OpenAiAdapter::appendAuth(std::string& head, const config::ProviderConfig& provider) const {
  if (!provider.api_key.empty())
    strAppend(head, "Authorization: Bearer ", provider.api_key.value, "\r\n");
}

api::ApiError OpenAiAdapter::mapError(int status, const http::fields& headers,
                                      std::string_view body,
                                      const config::ProviderConfig& provider) const {
  const std::string redacted = redactKey(body, provider);
  const json::value original = providerBody(redacted);
  const std::string hint = englishHint(redacted);
  const ProviderFields fields = providerFields(original);
  // The provider's own message is quoted only when it is plain English-ish
  // ASCII; anything else (DeepSeek's Chinese hints) stays in provider_error.
  const std::string quoted =
      !fields.message.empty() && isPrintableAscii(fields.message) && fields.message.size() < 400
          ? strCat(": ", fields.message)
          : std::string();
  const std::string who = strCat("provider `", provider.name, "`");

  api::ApiError error;
  const bool dashscope = kind_ == config::ProviderKind::kDashScope;
  // DashScope's per-minute token throttle (Throttling.AllocationQuota) is a
  // 429 worded insufficient_quota that clears within a minute: a rate limit,
  // not an empty account. Its overdue-payment 400 (Arrearage) is one.
  const bool arrearage = dashscope && (fields.code == "Arrearage" || fields.type == "Arrearage");
  const bool quota = arrearage || status == 402 ||
                     (!(dashscope && status == 429) &&
                      (fields.type == "insufficient_quota" || fields.code == "insufficient_quota"));
  if (quota) {
    error = api::ApiError::upstream(
        status == 402 || arrearage ? 402 : 429, "upstream_quota_exhausted",
        strCat("The ", who, " reports its quota or balance is exhausted (HTTP ", status, ")",
               quoted, ". Top up that account or route to another provider."));
  } else if (status == 429) {
    error = api::ApiError::upstream(429, "rate_limited",
                                    strCat("The ", who, " is rate limiting llmgate (HTTP 429)",
                                           quoted, ". Retry after the time in Retry-After."));
    error.type = "rate_limit_error";
    error.retry_after = retryAfter(headers);
  } else if (status == 401 || status == 403) {
    error = api::ApiError::upstream(
        502, "upstream_auth_failed",
        strCat("The ", who, " rejected llmgate's credentials for it (HTTP ", status,
               "). This is a gateway configuration problem, not your API key: check the key in ",
               provider.api_key.env.empty() ? std::string("its api_key_env") : provider.api_key.env,
               "."));
    if (const std::string_view region = dashScopeRegion(provider.endpoint.host);
        dashscope && !region.empty()) {
      strAppend(error.message, " DashScope keys are bound to a region; this base_url is the ",
                region, " endpoint, so the key must come from that region's console.");
    }
  } else if (status == 400 || status == 404 || status == 409 || status == 413 || status == 422) {
    error =
        api::ApiError::upstream(status, "upstream_invalid_request",
                                strCat("The ", who, " rejected the request (HTTP ", status, ")",
                                       quoted, ". See error.provider_error for its full answer."));
    error.type = "invalid_request_error";
  } else if (status == 408) {
    error =
        api::ApiError::upstream(504, "upstream_timeout",
                                strCat("The ", who, " timed out handling the request (HTTP 408)."));
  } else if (status >= 500 && status != 503 && status != 529 && !original.is_object()) {
    // An HTML or truncated page instead of the provider's JSON envelope (a
    // CDN or load balancer answered): not a provider verdict we can read.
    error = api::ApiError::upstream(
        502, "upstream_protocol_error",
        strCat("The ", who, " answered HTTP ", status,
               " with a body that is not its JSON error format (a proxy or CDN page?)."));
  } else if (status == 503 || status == 529) {
    error = api::ApiError::upstream(
        503, "upstream_overloaded",
        strCat("The ", who, " is overloaded (HTTP ", status, ")", quoted, ". Retry shortly."));
    error.retry_after = retryAfter(headers);
  } else {
    error = api::ApiError::upstream(
        502, "upstream_server_error",
        strCat("The ", who, " failed to answer (HTTP ", status, ")", quoted, "."));
  }
  error.message += hint;
  error.provider_error = original;
  return error;
}

}  // namespace llmgate::proxy::providers
