#include "proxy/handlers/upstream_exchange.h"

#include "boost/json/monotonic_resource.hpp"
#include "boost/json/parse.hpp"
#include "boost/json/serializer.hpp"
#include "common/text/str_cat.h"
#include "proxy/api/content_type.h"

namespace llmgate::proxy::handlers {
namespace {

namespace http = boost::beast::http;
using upstream::UpstreamErrorKind;

constexpr std::size_t kMaxUnaryBody = 64u << 20;
constexpr std::size_t kMaxErrorBody = 1u << 20;

}  // namespace

api::ApiError toApiError(const upstream::UpstreamError& error,
                         const config::ProviderConfig& provider) {
  const std::string who = strCat("provider `", provider.name, "`");
  switch (error.kind) {
    case UpstreamErrorKind::kDnsFailed:
    case UpstreamErrorKind::kConnectRefused:
    case UpstreamErrorKind::kClosed:
    case UpstreamErrorKind::kStaleConnection:
      return api::ApiError::upstream(
          503, "upstream_unavailable",
          strCat("Could not get an answer from ", who, ": ", error.detail, ". Retry shortly."));
    case UpstreamErrorKind::kForbiddenAddress:
      return api::ApiError::upstream(
          502, "upstream_forbidden_address",
          strCat("Refused to connect to ", who, ": ", error.detail, "."));
    case UpstreamErrorKind::kConnectTimeout:
      return api::ApiError::upstream(
          504, "upstream_connect_timeout",
          strCat("Connecting to ", who, " timed out (timeouts.connect): ", error.detail, "."));
    case UpstreamErrorKind::kTlsError:
      return api::ApiError::upstream(502, "upstream_tls_error",
                                     strCat("TLS with ", who, " failed: ", error.detail, "."));
    case UpstreamErrorKind::kPoolExhausted:
      return api::ApiError::upstream(
          503, "upstream_pool_exhausted",
          strCat("No connection to ", who, " was free: ", error.detail, "."));
    case UpstreamErrorKind::kFirstByteTimeout:
      return api::ApiError::upstream(
          504, "upstream_first_byte_timeout",
          strCat("The ", who, " sent no data within timeouts.first_byte (",
                 provider.timeouts.first_byte.count(), " ms)."));
    case UpstreamErrorKind::kIdleTimeout:
      return api::ApiError::upstream(
          504, "upstream_idle_timeout",
          strCat("The ", who, " stopped sending data for timeouts.stream_idle (",
                 provider.timeouts.stream_idle.count(), " ms)."));
    case UpstreamErrorKind::kTotalTimeout:
      return api::ApiError::upstream(504, "upstream_timeout",
                                     strCat("The ", who, " did not finish within timeouts.total (",
                                            provider.timeouts.total.count(), " ms)."));
    case UpstreamErrorKind::kProtocolError:
    case UpstreamErrorKind::kNone:
      break;
  }
  return api::ApiError::upstream(
      502, "upstream_protocol_error",
      strCat("The ", who, " answered something llmgate cannot use: ", error.detail, "."));
}

upstream::UpstreamCall::Request makeUpstreamRequest(const config::ProviderConfig& provider,
                                                    const providers::ProviderAdapter& adapter,
                                                    std::string target, std::string body,
                                                    bool stream) {
  upstream::UpstreamCall::Request req{http::verb::post, target, 11};
  const auto& ep = provider.endpoint;
  const bool default_port = (ep.tls && ep.port == 443) || (!ep.tls && ep.port == 80);
  const bool ipv6 = ep.host.find(':') != std::string::npos;
  const std::string host = ipv6 ? strCat("[", ep.host, "]") : ep.host;
  req.set(http::field::host, default_port ? host : strCat(host, ":", ep.port));
  req.set(http::field::content_type, "application/json");
  req.set(http::field::accept, stream ? "text/event-stream" : "application/json");
  req.set(http::field::user_agent, "llmgate/" LLMGATE_VERSION);
  adapter.addAuth(req.base(), provider);
  req.keep_alive(true);
  req.body() = std::move(body);
  req.prepare_payload();
  return req;
}

upstream::CallDeadlines deadlinesFor(const config::ProviderConfig& provider, time::SteadyTime start,
                                     bool stream) {
  return upstream::CallDeadlines{
      .first_byte = start + provider.timeouts.first_byte,
      .total = start + provider.timeouts.total,
      .stream_idle = stream ? provider.timeouts.stream_idle : config::Duration(0)};
}

void describeTarget(runtime::ResponseWriter& writer, const routing::Target& target,
                    const std::string& route_label) {
  writer.addHeader("x-llmgate-provider", target.provider->name);
  writer.addHeader("x-llmgate-model", target.model->name);
  writer.addHeader("x-llmgate-route", route_label);
}

namespace {

void appendSerialized(std::string& out, boost::json::serializer& sr) {
  char buffer[4096];
  while (!sr.done()) {
    const boost::json::string_view part = sr.read(buffer, sizeof buffer);
    out.append(part.data(), part.size());
  }
}

}  // namespace

std::string serializeChatBody(const boost::json::object& body, std::string_view model,
                              std::string_view limit_key, std::uint64_t limit) {
  std::string out;
  out.reserve(body.size() * 16 + 1024);
  boost::json::serializer sr;
  const std::string limit_text = std::to_string(limit);
  bool has_model = false;
  bool has_limit = false;
  const auto appendKey = [&](std::string_view key) {
    sr.reset(boost::json::string_view(key.data(), key.size()));
    appendSerialized(out, sr);
    out += ':';
  };
  out += '{';
  for (const auto& member : body) {
    if (out.size() > 1) out += ',';
    const std::string_view key(member.key().data(), member.key().size());
    appendKey(key);
    if (key == "model") {
      has_model = true;
      sr.reset(boost::json::string_view(model.data(), model.size()));
      appendSerialized(out, sr);
    } else if (key == limit_key) {
      has_limit = true;
      out += limit_text;
    } else {
      sr.reset(&member.value());
      appendSerialized(out, sr);
    }
  }
  for (const auto& [missing, key] :
       {std::pair{!has_model, std::string_view("model")}, std::pair{!has_limit, limit_key}}) {
    if (!missing) continue;
    if (out.size() > 1) out += ',';
    appendKey(key);
    if (key == "model") {
      sr.reset(boost::json::string_view(model.data(), model.size()));
      appendSerialized(out, sr);
    } else {
      out += limit_text;
    }
  }
  out += '}';
  return out;
}

UnaryAnswer checkUnaryAnswer(const upstream::UpstreamCall::ResponseHeader& header,
                             std::string body) {
  // The answer's DOM lives in one arena (freed at once with it); `parsed` is
  // constructed with that storage so that assigning the parse result moves.
  boost::json::storage_ptr arena =
      boost::json::make_shared_resource<boost::json::monotonic_resource>(2 * body.size() + 1024);
  UnaryAnswer answer{.parsed = boost::json::value(arena)};
  auto ct = header.find(boost::beast::http::field::content_type);
  if (ct == header.end() || !api::isJsonMediaType(ct->value())) {
    answer.problem = {UpstreamErrorKind::kProtocolError,
                      "HTTP 200 without Content-Type: application/json"};
    return answer;
  }
  const std::size_t start = body.find_first_not_of(" \r\n\t");
  if (start == std::string::npos) {
    answer.problem = {UpstreamErrorKind::kProtocolError, "an empty body with HTTP 200"};
    return answer;
  }
  body.erase(0, start);
  boost::system::error_code ec;
  answer.parsed = boost::json::parse(body, ec, arena);
  if (ec || !answer.parsed.is_object()) {
    answer.problem = {UpstreamErrorKind::kProtocolError,
                      strCat("a body that is not a JSON object (",
                             ec ? ec.message() : std::string("wrong type"), ")")};
    return answer;
  }
  answer.body = std::move(body);
  return answer;
}

boost::asio::awaitable<void> relayUnary(runtime::RequestContext& ctx, upstream::UpstreamCall& call,
                                        const providers::ProviderAdapter& adapter,
                                        const config::ProviderConfig& provider) {
  const int status = call.status();
  std::string body;
  if (status < 200 || status > 299) {
    // Read what the provider said (bounded) to map it; a failure to read it
    // still leaves the status to map.
    co_await call.readAll(body, kMaxErrorBody);
    call.finish();
    {
      const api::ApiError error_to_send = adapter.mapError(status, call.header(), body, provider);
      co_await ctx.writer.sendError(error_to_send);
    }
    co_return;
  }
  if (upstream::UpstreamError error = co_await call.readAll(body, kMaxUnaryBody)) {
    call.finish();
    {
      const api::ApiError error_to_send = toApiError(error, provider);
      co_await ctx.writer.sendError(error_to_send);
    }
    co_return;
  }
  call.finish();
  UnaryAnswer answer = checkUnaryAnswer(call.header(), std::move(body));
  if (answer.problem) {
    const api::ApiError error_to_send = toApiError(*answer.problem, provider);
    co_await ctx.writer.sendError(error_to_send);
    co_return;
  }
  co_await ctx.writer.send(200, std::move(answer.body), "application/json");
}

}  // namespace llmgate::proxy::handlers
