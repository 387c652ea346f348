// One HTTP exchange with a provider over a pooled connection: send the
// request, read the response header, then the body piece by piece. Deadlines:
// until the first byte of data (markFirstByte) `first_byte` applies, after
// it `stream_idle` (when asked) — and `total` always.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "boost/asio/awaitable.hpp"
#include "boost/beast/http/buffer_body.hpp"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/string_body.hpp"
#include "common/net/deadlines.h"
#include "proxy/upstream/upstream_pool.h"
#include "proxy/upstream/upstream_request.h"

namespace llmgate::proxy::upstream {

struct CallDeadlines {
  time::SteadyTime first_byte;
  time::SteadyTime total;
  config::Duration stream_idle{0};  // 0: no idle deadline
};

class UpstreamCall {
 public:
  using Request = UpstreamRequest;
  using ResponseHeader = boost::beast::http::response_header<>;

  UpstreamCall(std::shared_ptr<UpstreamPool> pool, CallDeadlines deadlines);
  UpstreamCall(const UpstreamCall&) = delete;  // the armed deadline points here
  UpstreamCall& operator=(const UpstreamCall&) = delete;

  // Acquires a connection, writes `request`, reads the response header. A
  // reused keep-alive connection the provider had already closed is replaced
  // by a fresh one once, transparently.
  boost::asio::awaitable<UpstreamError> start(const Request& request);

  const ResponseHeader& header() const { return parser_->get().base(); }
  int status() const { return static_cast<int>(parser_->get().result_int()); }
  bool done() const { return parser_ && parser_->is_done(); }

  // Appends the next body bytes (up to 16 KiB) to `out`.
  boost::asio::awaitable<UpstreamError> readSome(std::string& out);
  // Reads the rest of the body into `out`; fails past `limit` bytes. The
  // first-byte deadline lasts until the first non-whitespace byte (DeepSeek
  // sends blank lines while a request is queued).
  boost::asio::awaitable<UpstreamError> readAll(std::string& out, std::size_t limit);

  // Switches from the first-byte deadline to the idle deadline.
  void markFirstByte() { first_byte_seen_ = true; }

  // Returns the connection to its pool: kept alive only when the response was
  // read completely and both sides allow keep-alive.
  void finish();

 private:
  template <typename Stream>
  boost::asio::awaitable<UpstreamError> exchangeOn(Stream& stream, const Request& request);
  template <typename Stream>
  boost::asio::awaitable<UpstreamError> readSomeOn(Stream& stream, std::string& out);
  boost::asio::awaitable<UpstreamError> tryOnce(const Request& request, bool fresh_only);
  // Parses body bytes already in the connection's buffer into `out`; false
  // when there are none (or too few to make progress) and a read is needed.
  bool parseBuffered(std::string& out, UpstreamError& error);
  UpstreamError classify(const boost::system::error_code& ec) const;
  // True when `ec` is the cancellation by the armed deadline.
  bool timedOut(const boost::system::error_code& ec) const {
    return ec && (ec == boost::beast::error::timeout || deadline_.expired());
  }
  static void onDeadline(void* call);
  UpstreamError orShutdown(UpstreamError error) const;
  void arm();

  std::shared_ptr<UpstreamPool> pool_;
  CallDeadlines deadlines_;
  ConnectionLease lease_;
  std::optional<boost::beast::http::response_parser<boost::beast::http::buffer_body>> parser_;
  bool first_byte_seen_ = false;
  UpstreamErrorKind armed_kind_ = UpstreamErrorKind::kTotalTimeout;
  // The armed deadline (on the worker's one timer, not a timer per read):
  // on expiry the connection's pending operation is cancelled.
  net::Deadlines::Entry deadline_;
};

}  // namespace llmgate::proxy::upstream
