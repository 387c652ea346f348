#include "control/http/http_server.h"

#include <charconv>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http/error.hpp"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/write.hpp"
#include "boost/beast/ssl/ssl_stream.hpp"
#include "common/log/log.h"
#include "common/text/str_cat.h"

namespace llmgate::control::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

Response errorResponse(bhttp::status status, unsigned version, std::string_view body) {
  Response res{status, version};
  res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  res.body() = std::string(body);
  res.keep_alive(false);
  res.prepare_payload();
  return res;
}

}  // namespace

absl::Status parseEndpoint(const std::string& address, tcp::endpoint& out) {
  const std::size_t colon = address.rfind(':');
  if (colon == std::string::npos) {
    return absl::InvalidArgumentError(strCat("\"", address, "\": expected HOST:PORT"));
  }
  std::string host = address.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const std::string port_text = address.substr(colon + 1);
  unsigned port = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || end != port_text.data() + port_text.size() || port > 65535 ||
      port_text.empty()) {
    return absl::InvalidArgumentError(strCat("\"", address, "\": bad port"));
  }
  boost::system::error_code addr_ec;
  const asio::ip::address ip = asio::ip::make_address(host, addr_ec);
  if (addr_ec) {
    return absl::InvalidArgumentError(
        strCat("\"", address, "\": expected a numeric IP address (e.g. 0.0.0.0:8443)"));
  }
  out = tcp::endpoint(ip, static_cast<unsigned short>(port));
  return absl::OkStatus();
}

HttpServer::HttpServer(HttpServerOptions options, Handler handler,
                       std::shared_ptr<asio::ssl::context> tls)
    : options_(std::move(options)),
      handler_(std::move(handler)),
      tls_(std::move(tls)),
      acceptor_(ioc_) {}

HttpServer::~HttpServer() { stop(); }

absl::Status HttpServer::listen(const std::string& address) {
  tcp::endpoint endpoint;
  if (absl::Status status = parseEndpoint(address, endpoint); !status.ok()) {
    return absl::InvalidArgumentError(strCat(options_.name, ": ", std::string(status.message())));
  }
  boost::system::error_code ec;
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(
        strCat(options_.name, ": cannot listen on ", address, ": ", ec.message()));
  }
  return absl::OkStatus();
}

tcp::endpoint HttpServer::localEndpoint() const {
  boost::system::error_code ec;
  return acceptor_.local_endpoint(ec);
}

void HttpServer::start() {
  asio::co_spawn(ioc_, acceptLoop(), asio::detached);
  thread_ = std::thread([this] { ioc_.run(); });
}

void HttpServer::stop() {
  ioc_.stop();
  if (thread_.joinable()) thread_.join();
}

void HttpServer::drain(std::chrono::milliseconds grace) {
  asio::post(ioc_, [this] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
  });
  constexpr auto kStep = std::chrono::milliseconds(10);
  // A fresh request may still arrive on an idle keep-alive connection; the
  // grace bounds the wait either way.
  for (auto waited = std::chrono::milliseconds(0); waited < grace; waited += kStep) {
    if (busy_.load() == 0 && waited >= kStep) break;
    std::this_thread::sleep_for(kStep);
  }
  stop();
}

asio::awaitable<void> HttpServer::acceptLoop() {
  while (acceptor_.is_open()) {
    auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted) break;
      continue;
    }
    if (std::shared_ptr<asio::ssl::context> tls = tlsContext()) {
      asio::co_spawn(ioc_, tlsSession(std::move(socket), std::move(tls)), asio::detached);
    } else {
      asio::co_spawn(ioc_, plainSession(std::move(socket)), asio::detached);
    }
  }
}

asio::awaitable<void> HttpServer::plainSession(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  co_await serve(stream);
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

void HttpServer::setTlsContext(std::shared_ptr<asio::ssl::context> tls) {
  std::lock_guard lock(tls_mu_);
  if (tls_ && tls) tls_ = std::move(tls);
}

std::shared_ptr<asio::ssl::context> HttpServer::tlsContext() const {
  std::lock_guard lock(tls_mu_);
  return tls_;
}

asio::awaitable<void> HttpServer::tlsSession(tcp::socket socket,
                                             std::shared_ptr<asio::ssl::context> tls) {
  beast::ssl_stream<beast::tcp_stream> stream(beast::tcp_stream(std::move(socket)), *tls);
  beast::get_lowest_layer(stream).expires_after(options_.read_timeout);
  auto [ec] = co_await stream.async_handshake(asio::ssl::stream_base::server, kTuple);
  if (ec) {
    log::debug(options_.name, ": TLS handshake failed: ", ec.message());
    co_return;
  }
  co_await serve(stream);
  beast::get_lowest_layer(stream).expires_after(std::chrono::seconds(2));
  auto [shutdown_ec] = co_await stream.async_shutdown(kTuple);
  (void)shutdown_ec;
}

template <typename Stream>
asio::awaitable<void> HttpServer::serve(Stream& stream) {
  beast::flat_buffer buffer;
  bool first = true;
  while (true) {
    bhttp::request_parser<bhttp::string_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(options_.header_limit));
    parser.body_limit(options_.body_limit);
    // An idle keep-alive connection waits idle_timeout for its next request.
    const auto timeout = first ? options_.read_timeout : options_.idle_timeout;
    beast::get_lowest_layer(stream).expires_after(timeout);
    first = false;
    auto [ec, n] = co_await bhttp::async_read(stream, buffer, parser, kTuple);
    Response res;
    if (!ec) busy_.fetch_add(1);
    const bool counted = !ec;
    if (ec == bhttp::error::body_limit) {
      res = errorResponse(bhttp::status::payload_too_large, 11, "request body too large\n");
    } else if (ec == bhttp::error::header_limit) {
      res = errorResponse(bhttp::status::request_header_fields_too_large, 11,
                          "request header too large\n");
    } else if (ec == bhttp::error::end_of_stream || ec == asio::error::eof ||
               ec == beast::error::timeout || ec == asio::error::connection_reset ||
               ec == asio::ssl::error::stream_truncated) {
      break;
    } else if (ec) {
      res = errorResponse(bhttp::status::bad_request, 11, "bad request\n");
    } else {
      const Request& req = parser.get();
      // The handlers report errors as values; an exception (bad_alloc) must
      // still not unwind through the io_context and end the process.
      try {
        res = handler_(req);
      } catch (const std::exception& e) {
        log::error(options_.name, ": handler failed: ", e.what());
        res = errorResponse(bhttp::status::internal_server_error, 11, "internal error\n");
      }
      const bool handler_keeps = res.keep_alive();
      res.version(req.version());
      res.keep_alive(handler_keeps && req.keep_alive());
    }
    res.set(bhttp::field::server, options_.name);
    res.prepare_payload();
    beast::get_lowest_layer(stream).expires_after(options_.read_timeout);
    auto [wec, wn] = co_await bhttp::async_write(stream, res, kTuple);
    if (counted) busy_.fetch_sub(1);
    if (wec || !res.keep_alive()) break;
  }
}

}  // namespace llmgate::control::http
