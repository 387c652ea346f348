#include "proxy/server/session.h"

#include <optional>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/string_body.hpp"
#include "common/net/find_field.h"
#include "common/net/http_io.h"
#include "common/time/clock.h"
#include "proxy/api/api_error.h"
#include "proxy/api/content_type.h"
#include "proxy/api/request_id.h"
#include "proxy/handlers/handlers.h"
#include "proxy/server/worker.h"

namespace llmgate::proxy::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using api::ApiError;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

enum class Endpoint { kChat, kEmbeddings, kModels, kUnknown };

struct Route {
  Endpoint endpoint = Endpoint::kUnknown;
  http::verb method = http::verb::unknown;  // the one it accepts
};

// Exact paths only: no normalization, so `//v1/..`, `%2e%2e` and friends never
// reach a handler (and admin paths do not exist on this port at all).
Route routeFor(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  if (path == "/v1/chat/completions") return {Endpoint::kChat, http::verb::post};
  if (path == "/v1/embeddings") return {Endpoint::kEmbeddings, http::verb::post};
  if (path == "/v1/models") return {Endpoint::kModels, http::verb::get};
  return {};
}

bool isGone(const boost::system::error_code& ec) {
  return ec == beast::error::timeout || ec == http::error::end_of_stream ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::broken_pipe || ec == http::error::partial_message;
}

// True when the buffered request head holds an Authorization line too long to
// be any configured key: such a request is answered as a bad key (401, R58).
bool hasOversizedAuthorization(const beast::flat_buffer& buffer) {
  const std::string_view head(static_cast<const char*>(buffer.data().data()), buffer.size());
  // Beast has consumed the start line and the fields before the one that
  // overflowed, so the line may start the buffer.
  constexpr std::string_view kName = "authorization:";
  for (std::size_t pos = 0; pos + kName.size() <= head.size(); ++pos) {
    if (pos > 0 && head[pos - 1] != '\n') continue;
    if (!beast::iequals(head.substr(pos, kName.size()), kName)) continue;
    const std::size_t end = head.find('\n', pos);
    return end == std::string_view::npos || end - pos > 4096;
  }
  return false;
}

std::optional<ApiError> fromParseError(const boost::system::error_code& ec, std::uint64_t limit,
                                       const beast::flat_buffer& buffer) {
  if (ec == http::error::header_limit) {
    return hasOversizedAuthorization(buffer) ? ApiError::invalidApiKey()
                                             : ApiError::headersTooLarge();
  }
  if (ec == http::error::body_limit) return ApiError::tooLarge(limit);
  if (isGone(ec)) return std::nullopt;  // nobody to answer
  return ApiError::badRequest("Malformed HTTP request: " + ec.message() + ".");
}

class ConnectionCount {
 public:
  explicit ConnectionCount(ServerState& state) : state_(state) { ++state_.open_connections; }
  ~ConnectionCount() { --state_.open_connections; }
  ConnectionCount(const ConnectionCount&) = delete;
  ConnectionCount& operator=(const ConnectionCount&) = delete;

 private:
  ServerState& state_;
};

// Reports one finished request (access log + metrics) when it goes out of
// scope, whichever way the request ended, if a response was sent.
class RequestReport {
 public:
  RequestReport(telemetry::Stats& stats, const runtime::ResponseWriter& writer,
                telemetry::RequestRecord& record, time::SteadyTime received_at)
      : stats_(stats), writer_(writer), record_(record), received_at_(received_at) {}
  ~RequestReport() {
    if (!writer_.started()) return;
    record_.request_id = writer_.requestId();
    record_.status = static_cast<int>(writer_.status());
    record_.error_code = writer_.errorCode();
    record_.attempts = writer_.attempts();
    record_.duration_s = std::chrono::duration<double>(time::steadyNow() - received_at_).count();
    stats_.onRequest(record_);
  }
  RequestReport(const RequestReport&) = delete;
  RequestReport& operator=(const RequestReport&) = delete;

 private:
  telemetry::Stats& stats_;
  const runtime::ResponseWriter& writer_;
  telemetry::RequestRecord& record_;
  time::SteadyTime received_at_;
};

class InflightCount {
 public:
  explicit InflightCount(ServerState& state) : state_(state) { ++state_.inflight_requests; }
  ~InflightCount() { --state_.inflight_requests; }
  InflightCount(const InflightCount&) = delete;
  InflightCount& operator=(const InflightCount&) = delete;

 private:
  ServerState& state_;
};

// The idle deadline passed: the pending read ends with operation_aborted and
// the session closes its connection.
void cancelRead(void* stream) {
  boost::system::error_code ignored;
  static_cast<beast::tcp_stream*>(stream)->socket().cancel(ignored);
}

}  // namespace

asio::awaitable<void> runSession(Worker& worker, beast::tcp_stream stream) {
  ConnectionCount connection_count(worker.state());
  SessionRegistry::Entry registration(worker.sessions(), stream);
  const ApiError too_many_headers = ApiError::headersTooLarge();
  beast::flat_buffer buffer;
  net::Deadlines::Entry idle_deadline;
  bool first_request = true;
  while (true) {
    // Held for the whole request: a reload during it does not change its view.
    const runtime::SnapshotPtr snapshot = worker.snapshot();
    const config::ServerConfig& server = snapshot->config->server;

    if (buffer.size() == 0) {
      // Draining: a connection that served its request is not kept for another.
      if (!first_request && worker.state().draining.load(std::memory_order_relaxed)) break;
      // Between requests the idle timeout applies; the header timeout starts
      // with the first byte of the next request. While idle, a drain may
      // cancel this read (SessionRegistry::closeIdle).
      // The idle deadline lives on the worker's one deadline timer, not on
      // a Beast expiry (a timer scheduled and cancelled for every request).
      stream.expires_never();
      worker.deadlines().arm(idle_deadline, net::Deadlines::Lane::kClientIdle,
                             time::steadyNow() + server.idle_timeout, &cancelRead, &stream);
      registration.setIdle(true);
      auto [ec, n] = co_await stream.socket().async_read_some(buffer.prepare(4096), kTuple);
      registration.setIdle(false);
      idle_deadline.disarm();
      if (ec) break;
      buffer.commit(n);
    }

    http::request_parser<http::string_body> parser;
    // Beast throws std::length_error for one field over 64 KiB; keeping the
    // whole header under that turns such a field into a clean 431 instead.
    constexpr std::uint32_t kBeastFieldMax = 64 * 1024 - 1;
    parser.header_limit(std::min(server.max_header_bytes, kBeastFieldMax));
    parser.body_limit(server.max_request_bytes);
    first_request = false;
    // The header timeout is set only if a read has to wait (the header is
    // usually in the buffer already).
    auto [header_ec, header_n] =
        co_await net::readHeader(stream, buffer, parser, server.request_header_timeout);
    const time::SteadyTime received_at = time::steadyNow();
    if (header_ec) {
      if (auto error = fromParseError(header_ec, server.max_request_bytes, buffer)) {
        runtime::ResponseWriter writer(stream, 11, false, api::makeRequestId(worker.rng()),
                                       server.idle_timeout);
        co_await writer.sendError(*error);
      }
      break;
    }

    const auto& header = parser.get();
    // Many tiny headers fit under max_header_bytes but still cost a map entry
    // each; past kMaxHeaderCount the request is refused like an oversized one.
    constexpr std::ptrdiff_t kMaxHeaderCount = 100;
    if (std::distance(header.begin(), header.end()) > kMaxHeaderCount) {
      runtime::ResponseWriter writer(stream, 11, false, api::makeRequestId(worker.rng()),
                                     server.idle_timeout);
      co_await writer.sendError(too_many_headers);
      break;
    }
    std::string request_id;
    if (auto it = net::findField(header, "x-request-id");
        it != header.end() && api::isAcceptableRequestId(it->value())) {
      request_id = std::string(it->value());
    } else {
      request_id = api::makeRequestId(worker.rng());
    }
    // A request that arrives during a drain is still served (it has until
    // the drain deadline), but its connection closes after it.
    runtime::ResponseWriter writer(stream, header.version(), header.keep_alive(),
                                   std::move(request_id), server.idle_timeout);
    writer.closeWhen(worker.state().draining);
    telemetry::RequestRecord record;
    record.method = http::to_string(header.method());
    const std::string path(header.target().substr(0, header.target().find('?')).substr(0, 64));
    record.path = path;
    record.routes_version = snapshot->version;
    std::string tenant_name = "none";
    record.tenant = tenant_name;
    RequestReport report(worker.stats(), writer, record, received_at);

    // Checks that need no body. A 413 is answered without reading the body;
    // the others read it first so the connection stays usable.
    const Route route = routeFor(header.target());
    std::optional<ApiError> early;
    if (route.endpoint == Endpoint::kUnknown) {
      early = ApiError::unknownUrl(header.method_string(), header.target());
    } else if (header.method() != route.method) {
      early = ApiError::methodNotAllowed(header.method_string(), header.target());
      writer.addHeader("allow", route.method == http::verb::post ? "POST" : "GET");
    } else if (route.method == http::verb::post) {
      auto ct = net::findField(header, http::field::content_type);
      if (ct != header.end() && !api::isJsonMediaType(ct->value())) {
        early = ApiError::unsupportedMediaType(ct->value());
      }
    }
    if (auto length = parser.content_length(); length && *length > server.max_request_bytes) {
      {
        const ApiError error_to_send = ApiError::tooLarge(server.max_request_bytes);
        co_await writer.sendError(error_to_send);
      }
      break;
    }
    if (auto expect = net::findField(header, http::field::expect);
        expect != header.end() && beast::iequals(expect->value(), "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      stream.expires_after(server.idle_timeout);
      auto [ec, n] = co_await asio::async_write(stream, asio::buffer(kContinue), kTuple);
      if (ec) break;
    }

    auto [body_ec, body_n] =
        co_await net::readMessage(stream, buffer, parser, server.request_body_timeout);
    if (body_ec) {
      if (auto error = fromParseError(body_ec, server.max_request_bytes, buffer)) {
        co_await writer.sendError(*error);
      }
      break;
    }

    if (early) {
      co_await writer.sendError(*early);
    } else {
      auto auth = net::findField(header, http::field::authorization);
      std::optional<std::string> tenant = snapshot->auth.tenantFor(
          auth == header.end() ? std::string_view() : std::string_view(auth->value()));
      if (!tenant) {
        {
          const ApiError error_to_send = ApiError::invalidApiKey();
          co_await writer.sendError(error_to_send);
        }
      } else {
        InflightCount inflight(worker.state());
        tenant_name = *tenant;
        record.tenant = tenant_name;
        runtime::RequestContext ctx{
            parser.get(),       *snapshot,           worker.pools(), writer,
            std::move(*tenant), received_at,         worker.stats(), worker.rng(),
            worker.cache(),     &worker.coalescer(), record,         worker.redis()};
        switch (route.endpoint) {
          case Endpoint::kChat:
            co_await handlers::handleChatCompletions(ctx);
            break;
          case Endpoint::kEmbeddings:
            co_await handlers::handleEmbeddings(ctx);
            break;
          case Endpoint::kModels:
            co_await handlers::handleListModels(ctx);
            break;
          case Endpoint::kUnknown:
            break;
        }
      }
    }
    if (!writer.keepAlive() || worker.state().draining.load(std::memory_order_relaxed)) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  stream.socket().close(ignored);
}

}  // namespace llmgate::proxy::server
