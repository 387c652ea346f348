#include "proxy/upstream/upstream_call.h"

#include <array>
#include <charconv>
#include <cstring>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/http/read.hpp"
#include "common/net/http_io.h"
#include "common/text/str_cat.h"

namespace llmgate::proxy::upstream {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

bool isConnectionGone(const boost::system::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::connection_aborted || ec == asio::ssl::error::stream_truncated;
}

}  // namespace

UpstreamCall::UpstreamCall(std::shared_ptr<UpstreamPool> pool, CallDeadlines deadlines)
    : pool_(std::move(pool)), deadlines_(deadlines) {}

void UpstreamCall::arm() {
  time::SteadyTime deadline = deadlines_.total;
  armed_kind_ = UpstreamErrorKind::kTotalTimeout;
  if (!first_byte_seen_) {
    if (deadlines_.first_byte < deadline) {
      deadline = deadlines_.first_byte;
      armed_kind_ = UpstreamErrorKind::kFirstByteTimeout;
    }
  } else if (deadlines_.stream_idle.count() > 0) {
    const auto idle = time::steadyNow() + deadlines_.stream_idle;
    if (idle < deadline) {
      deadline = idle;
      armed_kind_ = UpstreamErrorKind::kIdleTimeout;
    }
  }
  // No Beast expiry (a timer per read): the worker's one deadline timer
  // cancels the pending operation instead. Connect leaves an expiry behind.
  lease_->lowest().expires_never();
  pool_->deadlines().arm(deadline_, net::Deadlines::Lane::kUpstreamExchange, deadline,
                         &UpstreamCall::onDeadline, this);
}

void UpstreamCall::onDeadline(void* call) {
  auto& self = *static_cast<UpstreamCall*>(call);
  if (!self.lease_) return;
  boost::system::error_code ignored;
  self.lease_->lowest().socket().cancel(ignored);
}

UpstreamError UpstreamCall::classify(const boost::system::error_code& ec) const {
  if (timedOut(ec)) {
    return {armed_kind_, armed_kind_ == UpstreamErrorKind::kFirstByteTimeout
                             ? "no response before timeouts.first_byte"
                         : armed_kind_ == UpstreamErrorKind::kIdleTimeout
                             ? "no data for timeouts.stream_idle"
                             : "the answer was not complete before timeouts.total"};
  }
  if (isConnectionGone(ec))
    return {UpstreamErrorKind::kClosed, strCat("connection closed: ", ec.message())};
  if (ec.category() == boost::system::error_code(http::error::body_limit).category()) {
    return {UpstreamErrorKind::kProtocolError, strCat("malformed HTTP response: ", ec.message())};
  }
  return {UpstreamErrorKind::kClosed, ec.message()};
}

// After the drain deadline every failure of this exchange is reported as
// the shutdown that caused it, not as whatever the closed socket returned.
UpstreamError UpstreamCall::orShutdown(UpstreamError error) const {
  if (error && pool_->aborted()) {
    return {UpstreamErrorKind::kShuttingDown,
            "llmgate is shutting down (server.drain_timeout passed)"};
  }
  return error;
}

asio::awaitable<UpstreamError> UpstreamCall::start(const Request& request) {
  if (pool_->aborted()) co_return orShutdown({UpstreamErrorKind::kClosed, "aborted"});
  UpstreamError error = co_await tryOnce(request, false);
  if (error.kind == UpstreamErrorKind::kStaleConnection) {
    // The provider closed a keep-alive connection before reading our request:
    // safe to send again on a fresh connection (not counted as an attempt).
    error = co_await tryOnce(request, true);
    if (error.kind == UpstreamErrorKind::kStaleConnection) error.kind = UpstreamErrorKind::kClosed;
  }
  co_return orShutdown(std::move(error));
}

asio::awaitable<UpstreamError> UpstreamCall::tryOnce(const Request& request, bool fresh_only) {
  lease_.reset();
  if (std::optional<ConnectionLease> idle = fresh_only ? std::nullopt : pool_->takeIdle()) {
    lease_ = std::move(*idle);  // the usual case: no coroutine for the pool
  } else {
    const time::SteadyTime acquire_deadline = std::min(deadlines_.first_byte, deadlines_.total);
    AcquireResult acquired = co_await pool_->acquire(acquire_deadline, fresh_only);
    if (acquired.error) co_return acquired.error;
    lease_ = std::move(acquired.lease);
  }
  parser_.emplace();
  parser_->body_limit(boost::none);  // callers bound what they keep
  parser_->header_limit(64 * 1024);
  if (lease_->isTls()) co_return co_await exchangeOn(lease_->tls(), request);
  co_return co_await exchangeOn(lease_->tcp(), request);
}

template <typename Stream>
asio::awaitable<UpstreamError> UpstreamCall::exchangeOn(Stream& stream, const Request& request) {
  arm();
  // Head, Content-Length and body in one gather write.
  constexpr std::string_view kLengthName = "Content-Length: ";
  char length[48];
  std::memcpy(length, kLengthName.data(), kLengthName.size());
  char* end =
      std::to_chars(length + kLengthName.size(), length + sizeof length - 4, request.body.size())
          .ptr;
  std::memcpy(end, "\r\n\r\n", 4);
  const std::array<asio::const_buffer, 3> buffers{
      asio::buffer(request.head), asio::buffer(length, static_cast<std::size_t>(end + 4 - length)),
      asio::buffer(request.body)};
  boost::system::error_code write_ec;
  if constexpr (std::is_same_v<Stream, beast::tcp_stream>) {
    std::size_t sent = 0;
    if (!net::sendAllNow(stream, buffers, sent, write_ec)) {
      write_ec = co_await net::writeRest(stream, buffers, sent);
    }
  } else {
    auto [ec, written] = co_await asio::async_write(stream, buffers, kTuple);
    write_ec = ec;
  }
  if (write_ec) {
    if (timedOut(write_ec)) co_return classify(write_ec);
    if (lease_.reused() && isConnectionGone(write_ec)) {
      co_return UpstreamError{UpstreamErrorKind::kStaleConnection, write_ec.message()};
    }
    co_return classify(write_ec);
  }
  auto [read_ec, read] = co_await net::readHeader(stream, lease_->buffer(), *parser_);
  if (read_ec) {
    if (timedOut(read_ec)) co_return classify(read_ec);
    if (lease_.reused() && !parser_->got_some() && isConnectionGone(read_ec)) {
      co_return UpstreamError{UpstreamErrorKind::kStaleConnection, read_ec.message()};
    }
    if (isConnectionGone(read_ec)) {
      co_return UpstreamError{
          UpstreamErrorKind::kClosed,
          strCat("the provider closed the connection before answering (", read_ec.message(), ")")};
    }
    co_return UpstreamError{UpstreamErrorKind::kProtocolError,
                            strCat("malformed HTTP response header: ", read_ec.message())};
  }
  co_return UpstreamError{};
}

bool UpstreamCall::parseBuffered(std::string& out, UpstreamError& error) {
  beast::flat_buffer& buffer = lease_->buffer();
  if (buffer.size() == 0) return false;
  // The body bytes among the buffered ones (never more than those) are
  // written straight to the end of `out`: no bounce through a chunk buffer.
  const std::size_t before = out.size();
  out.resize(before + buffer.size());
  auto& body = parser_->get().body();
  body.data = out.data() + before;
  body.size = buffer.size();
  boost::system::error_code ec;
  const std::size_t used = parser_->put(buffer.data(), ec);
  buffer.consume(used);
  out.resize(out.size() - body.size);  // the room the parser did not fill
  if (ec == http::error::need_buffer) ec = {};
  if (ec == http::error::need_more) {
    if (used == 0) return false;  // a partial chunk header: read more
    ec = {};
  }
  if (ec) {
    error = UpstreamError{UpstreamErrorKind::kProtocolError,
                          strCat("malformed HTTP response body: ", ec.message())};
  }
  return true;
}

template <typename Stream>
asio::awaitable<UpstreamError> UpstreamCall::readSomeOn(Stream& stream, std::string& out) {
  // Bytes that came with the header (usually the whole answer) are parsed
  // here, without an asynchronous operation, a posted completion and a timer.
  if (UpstreamError error; parseBuffered(out, error)) co_return error;
  std::vector<char>& chunk = lease_->chunk();
  auto& body = parser_->get().body();
  body.data = chunk.data();
  body.size = chunk.size();
  arm();
  auto [ec, n] = co_await http::async_read_some(stream, lease_->buffer(), *parser_, kTuple);
  out.append(chunk.data(), chunk.size() - body.size);
  if (ec == http::error::need_buffer) ec = {};
  if (ec) {
    if (timedOut(ec) || isConnectionGone(ec)) co_return classify(ec);
    co_return UpstreamError{UpstreamErrorKind::kProtocolError,
                            strCat("malformed HTTP response body: ", ec.message())};
  }
  co_return UpstreamError{};
}

asio::awaitable<UpstreamError> UpstreamCall::readSome(std::string& out) {
  if (done()) co_return UpstreamError{};
  if (pool_->aborted()) co_return orShutdown({UpstreamErrorKind::kClosed, "aborted"});
  UpstreamError error;
  if (lease_->isTls()) {
    error = co_await readSomeOn(lease_->tls(), out);
  } else {
    error = co_await readSomeOn(lease_->tcp(), out);
  }
  co_return orShutdown(std::move(error));
}

asio::awaitable<UpstreamError> UpstreamCall::readAll(std::string& out, std::size_t limit) {
  while (!done()) {
    const std::size_t before = out.size();
    // Bytes already buffered (usually the whole answer came with the head)
    // are parsed here without the readSome() coroutines.
    UpstreamError error;
    if (pool_->aborted() || !parseBuffered(out, error)) error = co_await readSome(out);
    if (error) co_return error;
    if (!first_byte_seen_) {
      for (std::size_t i = before; i < out.size(); ++i) {
        const char c = out[i];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
          first_byte_seen_ = true;
          deadlines_.stream_idle = config::Duration(0);  // a body has no idle deadline
          break;
        }
      }
    }
    if (out.size() > limit) {
      co_return UpstreamError{UpstreamErrorKind::kProtocolError,
                              strCat("response body larger than ", limit, " bytes")};
    }
  }
  co_return UpstreamError{};
}

void UpstreamCall::finish() {
  deadline_.disarm();
  if (lease_ && parser_ && parser_->is_done() && parser_->keep_alive()) lease_.markReusable();
  lease_.reset();
}

}  // namespace llmgate::proxy::upstream
