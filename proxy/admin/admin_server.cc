#include "proxy/admin/admin_server.h"

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/string_body.hpp"
#include "boost/beast/http/write.hpp"
#include "common/config/loader.h"
#include "common/text/str_cat.h"

namespace llmgate::proxy::admin {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

}  // namespace

AdminServer::AdminServer(server::ServerState& state, SnapshotSource snapshot, MetricsSource metrics)
    : state_(state),
      snapshot_(std::move(snapshot)),
      metrics_(std::move(metrics)),
      acceptor_(ioc_) {}

AdminServer::~AdminServer() { stop(); }

absl::Status AdminServer::listen(const tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(strCat("cannot listen on admin address ",
                                         endpoint.address().to_string(), ":", endpoint.port(), ": ",
                                         ec.message()));
  }
  return absl::OkStatus();
}

void AdminServer::start() {
  asio::co_spawn(ioc_, acceptLoop(), asio::detached);
  thread_ = std::thread([this] { ioc_.run(); });
}

void AdminServer::stop() {
  ioc_.stop();
  if (thread_.joinable()) thread_.join();
}

asio::awaitable<void> AdminServer::acceptLoop() {
  while (acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted) break;
      continue;
    }
    asio::co_spawn(ioc_, session(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> AdminServer::session(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  while (true) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(64 * 1024);
    stream.expires_after(std::chrono::seconds(30));
    auto [ec, n] = co_await http::async_read(stream, buffer, parser, kTuple);
    if (ec) break;
    const auto& req = parser.get();
    const std::string_view path = req.target().substr(0, req.target().find('?'));

    http::response<http::string_body> res{http::status::ok, req.version()};
    res.set(http::field::server, "llmgate-admin");
    res.set(http::field::content_type, "text/plain; charset=utf-8");
    res.keep_alive(req.keep_alive());
    if (req.method() != http::verb::get && req.method() != http::verb::head) {
      res.result(http::status::method_not_allowed);
      res.body() = "only GET\n";
    } else if (path == "/healthz") {
      res.body() = "ok\n";
    } else if (path == "/readyz") {
      const bool draining = state_.draining.load();
      const bool ready = state_.ready.load() && !draining;
      res.result(ready ? http::status::ok : http::status::service_unavailable);
      res.body() = ready ? "ready\n" : (draining ? "draining\n" : "starting\n");
    } else if (path == "/config") {
      const runtime::SnapshotPtr snapshot = snapshot_();
      res.set(http::field::content_type, "application/json");
      res.body() = config::effectiveConfigJson(*snapshot->config);
    } else if (path == "/routes" && routes_) {
      res.set(http::field::content_type, "application/json");
      res.body() = routes_();
    } else if (path == "/metrics") {
      res.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
      res.body() = metrics_();
    } else {
      res.result(http::status::not_found);
      res.body() = "not found: admin paths are /healthz /readyz /config /routes /metrics\n";
    }
    res.prepare_payload();
    auto [wec, wn] = co_await http::async_write(stream, res, kTuple);
    if (wec || !res.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

}  // namespace llmgate::proxy::admin
