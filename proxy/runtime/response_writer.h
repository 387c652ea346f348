// Writes one response on a client connection: a whole body, or a stream of
// SSE chunks (headers first, then chunks as they come). Every write has a
// deadline so a client that stops reading cannot hold a worker's resources.
#pragma once

#include <atomic>
#include <string>
#include <string_view>
#include <utility>

#include "boost/asio/awaitable.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/container/small_vector.hpp"
#include "common/config/schema.h"
#include "proxy/api/api_error.h"
#include "proxy/runtime/response_head.h"

namespace llmgate::proxy::runtime {

// Names are string literals (see addHeader), so only values are copied.
// The handler's own fields (x-llmgate-*): a few per response, held inline.
using HeaderList = boost::container::small_vector<std::pair<std::string_view, std::string>, 8>;

class ResponseWriter {
 public:
  ResponseWriter(boost::beast::tcp_stream& stream, unsigned http_version, bool keep_alive,
                 std::string request_id, config::Duration write_timeout)
      : stream_(stream),
        version_(http_version),
        keep_alive_(keep_alive),
        request_id_(std::move(request_id)),
        write_timeout_(write_timeout) {}

  // Headers added to whatever is sent next (x-llmgate-provider, ...). The
  // name must be a string literal: it is kept by reference.
  template <std::size_t N>
  void addHeader(const char (&name)[N], std::string value) {
    extra_.emplace_back(std::string_view(name, N - 1), std::move(value));
  }
  void setAttempts(int attempts) { attempts_ = attempts; }

  boost::asio::awaitable<bool> send(unsigned status, std::string body,
                                    std::string_view content_type);
  // The same with a body the caller keeps alive until the write is done.
  boost::asio::awaitable<bool> sendView(unsigned status, std::string_view body,
                                        std::string_view content_type);
  boost::asio::awaitable<bool> sendError(const api::ApiError& error);

  // 200 text/event-stream, chunked.
  boost::asio::awaitable<bool> beginStream();
  boost::asio::awaitable<bool> sendChunk(std::string_view data);
  boost::asio::awaitable<bool> endStream();

  bool started() const { return started_; }
  // What was sent, for the access log and metrics.
  unsigned status() const { return status_; }
  const std::string& errorCode() const { return error_code_; }
  int attempts() const { return attempts_; }
  // A stream that started with 200 but ended with an error event.
  void noteStreamError(std::string code) { error_code_ = std::move(code); }
  bool keepAlive() const { return keep_alive_ && ok_; }
  void closeAfter() { keep_alive_ = false; }
  // Once `flag` is set (the drain began), what is sent next says
  // `Connection: close`.
  void closeWhen(const std::atomic<bool>& flag) { close_when_ = &flag; }
  const std::string& requestId() const { return request_id_; }

 private:
  // The fields every response carries, then the handler's extra ones. Once
  // the drain began (closeWhen), the response says `Connection: close`.
  ResponseHead head(unsigned status);

  boost::beast::tcp_stream& stream_;
  unsigned version_;
  bool keep_alive_;
  std::string request_id_;
  config::Duration write_timeout_;
  HeaderList extra_;
  const std::atomic<bool>* close_when_ = nullptr;
  int attempts_ = 0;
  bool started_ = false;
  unsigned status_ = 0;
  std::string error_code_;
  bool ok_ = true;
};

}  // namespace llmgate::proxy::runtime
