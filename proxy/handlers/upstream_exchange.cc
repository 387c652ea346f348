#include "proxy/handlers/upstream_exchange.h"

#include <array>
#include <cstring>

#include "boost/json/monotonic_resource.hpp"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "boost/json/serializer.hpp"
#include "common/json/canonical.h"
#include "common/net/find_field.h"
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
    case UpstreamErrorKind::kShuttingDown:
      return api::ApiError::shuttingDown();
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
                                                    std::string target, std::string_view body,
                                                    bool stream) {
  upstream::UpstreamCall::Request req;
  const auto& ep = provider.endpoint;
  const bool default_port = (ep.tls && ep.port == 443) || (!ep.tls && ep.port == 80);
  const bool ipv6 = ep.host.find(':') != std::string::npos;
  req.head.reserve(256 + target.size() + ep.host.size() + provider.api_key.value.size());
  upstream::appendRequestLine(req.head, "POST", target);
  strAppend(req.head, "Host: ", ipv6 ? "[" : "", ep.host, ipv6 ? "]" : "");
  if (!default_port) strAppend(req.head, ":", ep.port);
  req.head += "\r\nContent-Type: application/json\r\n";
  upstream::appendField(req.head, "Accept", stream ? "text/event-stream" : "application/json");
  req.head += "User-Agent: llmgate/" LLMGATE_VERSION "\r\n";
  adapter.appendAuth(req.head, provider);
  req.body = body;
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

namespace {

// A scanner over JSON text already validated by the strict parser: finds
// where each top-level member's value starts and ends.
class TopLevelScanner {
 public:
  explicit TopLevelScanner(std::string_view text) : text_(text) {}

  struct Span {
    std::size_t begin = 0;
    std::size_t end = 0;
  };

  // The span of the value of the member whose key's opening quote is at
  // `key_at`; nullopt on anything unexpected.
  std::optional<Span> valueOfKeyAt(std::size_t key_at) {
    pos_ = key_at;
    if (peek() != '"' || !skipString()) return std::nullopt;
    skipSpace();
    if (!take(':')) return std::nullopt;
    skipSpace();
    const std::size_t value_begin = pos_;
    if (!skipValue()) return std::nullopt;
    return Span{value_begin, pos_};
  }

 private:
  char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }
  bool take(char c) {
    if (peek() != c) return false;
    ++pos_;
    return true;
  }
  void skipSpace() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r')) {
      ++pos_;
    }
  }
  // At an opening quote: moves past the closing one (memchr to each quote;
  // a quote after an odd run of backslashes is escaped).
  bool skipString() {
    std::size_t from = pos_ + 1;
    while (from < text_.size()) {
      const void* hit = std::memchr(text_.data() + from, '"', text_.size() - from);
      if (hit == nullptr) return false;
      const std::size_t quote =
          static_cast<std::size_t>(static_cast<const char*>(hit) - text_.data());
      std::size_t backslashes = 0;
      while (quote - backslashes > pos_ + 1 && text_[quote - backslashes - 1] == '\\')
        ++backslashes;
      if (backslashes % 2 == 0) {
        pos_ = quote + 1;
        return true;
      }
      from = quote + 1;
    }
    return false;
  }
  bool skipValue() {
    const char c = peek();
    if (c == '"') return skipString();
    if (c == '{' || c == '[') {
      int depth = 0;
      while (pos_ < text_.size()) {
        const char d = text_[pos_];
        if (d == '"') {
          if (!skipString()) return false;
          continue;
        }
        ++pos_;
        if (d == '{' || d == '[') ++depth;
        if ((d == '}' || d == ']') && --depth == 0) return true;
      }
      return false;
    }
    const std::size_t begin = pos_;
    while (pos_ < text_.size()) {
      const char d = text_[pos_];
      if (d == ',' || d == '}' || d == ']' || d == ' ' || d == '\t' || d == '\n' || d == '\r') {
        break;
      }
      ++pos_;
    }
    return pos_ > begin;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

std::optional<std::string> spliceChatBody(std::string_view raw, std::size_t model_key_at,
                                          std::size_t limit_key_at, std::string_view model,
                                          std::string_view limit_key, std::uint64_t limit) {
  if (model_key_at == std::string_view::npos) return std::nullopt;
  TopLevelScanner scanner(raw);
  const std::optional<TopLevelScanner::Span> model_span = scanner.valueOfKeyAt(model_key_at);
  std::optional<TopLevelScanner::Span> limit_span;
  if (limit_key_at != std::string_view::npos) {
    limit_span = scanner.valueOfKeyAt(limit_key_at);
    if (!limit_span) return std::nullopt;
  }
  // Valid JSON whose top level is an object ends with its closing brace.
  const std::size_t close = raw.find_last_not_of(" \t\r\n");
  if (!model_span || close == std::string_view::npos || raw[close] != '}') return std::nullopt;

  // The same bytes Boost.JSON's serializer writes for a string, without
  // setting one up per request.
  std::string model_json;
  llmgate::json::appendCanonicalString(model_json, model);
  const std::string limit_text = std::to_string(limit);

  struct Edit {
    TopLevelScanner::Span span;
    std::string_view with;
  };
  std::array<Edit, 2> edits{Edit{*model_span, model_json},
                            Edit{limit_span.value_or(TopLevelScanner::Span{close, close}), {}}};
  std::string appended;
  if (limit_span) {
    edits[1].with = limit_text;
  } else {
    appended = strCat(",\"", limit_key, "\":", limit_text);
    edits[1].with = appended;
  }
  if (edits[1].span.begin < edits[0].span.begin) std::swap(edits[0], edits[1]);
  std::string out;
  out.reserve(raw.size() + model_json.size() + appended.size() + 24);
  std::size_t at = 0;
  for (const Edit& edit : edits) {
    out.append(raw.substr(at, edit.span.begin - at));
    out.append(edit.with);
    at = edit.span.end;
  }
  out.append(raw.substr(at));
  return out;
}

std::string renamedChatBody(const api::ChatRequest& req, std::string_view raw,
                            std::string_view model, std::uint64_t limit) {
  const bool completion_limit = req.has_max_completion_tokens;
  const std::string_view limit_key = completion_limit ? "max_completion_tokens" : "max_tokens";
  const std::size_t limit_at =
      completion_limit ? req.key_at.max_completion_tokens : req.key_at.max_tokens;
  // A limit key the body has but wrote with escapes has no offset: splicing
  // would append the key a second time, so that body is serialized.
  const bool has_limit_key = completion_limit || req.has_max_tokens;
  if (limit_at != std::string_view::npos || !has_limit_key) {
    if (auto spliced = spliceChatBody(raw, req.key_at.model, limit_at, model, limit_key, limit)) {
      return *std::move(spliced);
    }
  }
  return serializeChatBody(req.body(), model, limit_key, limit);
}

UnaryAnswer checkUnaryAnswer(const upstream::UpstreamCall::ResponseHeader& header,
                             std::string body) {
  UnaryAnswer answer;
  auto ct = net::findField(header, boost::beast::http::field::content_type);
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
  const api::AnswerSummaryResult summarized = api::summarizeAnswer(body);
  if (summarized.error || !summarized.summary.is_object) {
    answer.problem = {
        UpstreamErrorKind::kProtocolError,
        strCat("a body that is not a JSON object (",
               summarized.error ? summarized.error.message() : std::string("wrong type"), ")")};
    return answer;
  }
  answer.summary = summarized.summary;
  answer.body = std::move(body);
  return answer;
}

void translateUnaryAnswer(UnaryAnswer& answer, const providers::ProviderAdapter& adapter) {
  // The DOM lives in one arena, freed at once with it.
  boost::json::storage_ptr arena =
      boost::json::make_shared_resource<boost::json::monotonic_resource>(2 * answer.body.size() +
                                                                         1024);
  boost::system::error_code ec;
  boost::json::value parsed = boost::json::parse(answer.body, ec, arena);
  if (!ec && adapter.translateResponse(parsed)) {
    answer.body = boost::json::serialize(parsed);
    const api::AnswerSummaryResult summarized = api::summarizeAnswer(answer.body);
    if (!summarized.error && summarized.summary.is_object) {
      answer.summary = summarized.summary;
      return;
    }
  }
  answer.problem = {UpstreamErrorKind::kProtocolError,
                    "an answer that is not in the provider's documented format"};
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
