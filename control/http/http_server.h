// A small HTTP/1.1 server for llmgate-control's own endpoints (the admin
// listener and the webhook's HTTPS listener): its own thread and io_context,
// one coroutine per connection, a timeout on the TLS handshake and on every
// read and write, a header and body limit, and a synchronous handler (these
// endpoints answer from memory). With a TLS context it serves HTTPS only.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/status.h"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/ssl/context.hpp"
#include "boost/beast/http/message.hpp"
#include "boost/beast/http/string_body.hpp"

namespace llmgate::control::http {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;
using Handler = std::function<Response(const Request&)>;

struct HttpServerOptions {
  std::string name;  // in logs and the Server header
  std::size_t body_limit = 64 * 1024;
  std::size_t header_limit = 16 * 1024;
  std::chrono::seconds read_timeout{10};  // handshake, each request, each write
  std::chrono::seconds idle_timeout{60};  // between keep-alive requests
};

class HttpServer {
 public:
  // `tls` nullptr: plain HTTP. The handler runs on the server's thread.
  HttpServer(HttpServerOptions options, Handler handler,
             std::shared_ptr<boost::asio::ssl::context> tls = nullptr);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds "HOST:PORT" (a numeric IPv4 or [IPv6] address; port 0 picks one).
  absl::Status listen(const std::string& address);
  boost::asio::ip::tcp::endpoint localEndpoint() const;
  void start();
  // Stops at once: open connections are cut.
  void stop();
  // Stops accepting, lets the requests being handled or written finish (up
  // to `grace`; idle keep-alive connections are not waited for), then stops.
  // Blocks the caller; never call it from the server's own thread.
  void drain(std::chrono::milliseconds grace);
  // Replaces the TLS context for new connections (certificate rotation);
  // connections already open keep theirs. No effect on a plain server.
  void setTlsContext(std::shared_ptr<boost::asio::ssl::context> tls);

 private:
  boost::asio::awaitable<void> acceptLoop();
  boost::asio::awaitable<void> plainSession(boost::asio::ip::tcp::socket socket);
  boost::asio::awaitable<void> tlsSession(boost::asio::ip::tcp::socket socket,
                                          std::shared_ptr<boost::asio::ssl::context> tls);
  std::shared_ptr<boost::asio::ssl::context> tlsContext() const;
  template <typename Stream>
  boost::asio::awaitable<void> serve(Stream& stream);

  HttpServerOptions options_;
  Handler handler_;
  mutable std::mutex tls_mu_;  // taken once per accepted connection
  std::shared_ptr<boost::asio::ssl::context> tls_;
  boost::asio::io_context ioc_{1};
  boost::asio::ip::tcp::acceptor acceptor_;
  std::atomic<int> busy_{0};  // requests between their read and their write's end
  std::thread thread_;
};

// Parses "HOST:PORT" / "[V6]:PORT" with a numeric address.
absl::Status parseEndpoint(const std::string& address, boost::asio::ip::tcp::endpoint& out);

}  // namespace llmgate::control::http
