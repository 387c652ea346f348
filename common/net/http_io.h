// Reads and writes on the request path that need no asynchronous operation
// when nothing has to wait: bytes already buffered are parsed in place, and
// a write the socket's send buffer takes at once leaves with one
// non-blocking sendmsg. Only a read that must wait for the peer, or the part
// of a write the kernel did not take, becomes an asynchronous operation
// (with the stream's own timeout).
//
// Beast's composed reads (http::async_read, async_read_header) post their
// completion even when the buffer already held the whole message, and
// asio::async_write posts one for a send that completed at once: each costs
// an operation object, a trip through the scheduler and a coroutine resume.
// The functions here keep Beast's semantics (errors, eager body parsing,
// end_of_stream vs partial_message) without that round trip.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <type_traits>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/buffer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/buffers_suffix.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/read_size.hpp"
#include "boost/beast/core/stream_traits.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http/basic_parser.hpp"
#include "boost/beast/http/error.hpp"

namespace llmgate::net {

// Sends what `socket` accepts now of `buffers` (at most 16 of them), without
// blocking and without SIGPIPE. Returns the bytes sent: 0 with no error when
// the send buffer is full.
template <typename ConstBufferSequence>
std::size_t sendNow(boost::asio::ip::tcp::socket& socket, const ConstBufferSequence& buffers,
                    boost::system::error_code& ec) {
  std::array<iovec, 16> iov{};
  std::size_t count = 0;
  for (auto it = boost::asio::buffer_sequence_begin(buffers);
       it != boost::asio::buffer_sequence_end(buffers); ++it) {
    const boost::asio::const_buffer b(*it);
    if (b.size() == 0) continue;
    if (count == iov.size()) break;  // the rest goes with the asynchronous write
    iov[count].iov_base = const_cast<void*>(b.data());
    iov[count].iov_len = b.size();
    ++count;
  }
  ec = {};
  if (count == 0) return 0;
  msghdr msg{};
  msg.msg_iov = iov.data();
  msg.msg_iovlen = count;
  while (true) {
    const ssize_t sent = ::sendmsg(socket.native_handle(), &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
    if (sent >= 0) return static_cast<std::size_t>(sent);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
    ec.assign(errno, boost::asio::error::get_system_category());
    return 0;
  }
}

// A stream's timeout for the operations that have to wait; nullopt: the
// caller has set it already (expires_at/expires_after on the stream).
using Timeout = std::optional<std::chrono::steady_clock::duration>;

// Writes all of `buffers` to `stream`: a non-blocking send first, then an
// asynchronous write of whatever is left, with `timeout` set just before it
// (reading the clock and resetting the timers only when a write must wait).
// Only for plain TCP streams (a TLS stream must encrypt: use
// asio::async_write).
// What sendNow() left of `buffers` (it sent `sent` bytes), written
// asynchronously under `timeout`.
template <typename ConstBufferSequence>
boost::asio::awaitable<boost::system::error_code> writeRest(boost::beast::tcp_stream& stream,
                                                            const ConstBufferSequence& buffers,
                                                            std::size_t sent,
                                                            Timeout timeout = std::nullopt) {
  if (timeout) stream.expires_after(*timeout);
  boost::beast::buffers_suffix<ConstBufferSequence> rest(buffers);
  rest.consume(sent);
  auto [write_ec, n] = co_await boost::asio::async_write(
      stream, rest, boost::asio::as_tuple(boost::asio::use_awaitable));
  co_return write_ec;
}

template <typename ConstBufferSequence>
boost::asio::awaitable<boost::system::error_code> writeAll(boost::beast::tcp_stream& stream,
                                                           const ConstBufferSequence& buffers,
                                                           Timeout timeout = std::nullopt) {
  boost::system::error_code ec;
  const std::size_t sent = sendNow(stream.socket(), buffers, ec);
  if (ec || sent == boost::asio::buffer_size(buffers)) co_return ec;
  co_return co_await writeRest(stream, buffers, sent, timeout);
}

// writeAll() for a caller on the hot path: the send that completes at once
// (nearly always) costs no coroutine frame; only a remainder is awaited:
//   if (net::sendAllNow(stream, buffers, sent, ec)) ... else co_await net::writeRest(...)
// True when everything was sent or `ec` is set.
template <typename ConstBufferSequence>
bool sendAllNow(boost::beast::tcp_stream& stream, const ConstBufferSequence& buffers,
                std::size_t& sent, boost::system::error_code& ec) {
  sent = sendNow(stream.socket(), buffers, ec);
  return ec || sent == boost::asio::buffer_size(buffers);
}

namespace detail {

// Beast's read_some_op loop: parse what is buffered, read only when the
// parser needs more, until `done(parser)`. `timeout` is set once, before the
// first read that has to wait: it bounds all of them together.
template <typename Stream, bool isRequest, typename Done>
boost::asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> readUntil(
    Stream& stream, boost::beast::flat_buffer& buffer,
    boost::beast::http::basic_parser<isRequest>& parser, Done done, Timeout timeout) {
  namespace http = boost::beast::http;
  boost::system::error_code ec;
  std::size_t total = 0;
  while (!done(parser)) {
    if (buffer.size() > 0) {
      const std::size_t used = parser.put(buffer.data(), ec);
      total += used;
      buffer.consume(used);
      if (ec && ec != http::error::need_more) break;
      ec = {};
      if (used > 0 && buffer.size() > 0) continue;  // more to parse before reading
      if (done(parser)) break;
    }
    const std::size_t size = boost::beast::read_size(buffer, 65536);
    if (size == 0) {
      ec = http::error::buffer_overflow;
      break;
    }
    boost::asio::mutable_buffer space;
    try {
      space = buffer.prepare(size);
    } catch (const std::length_error&) {
      ec = http::error::buffer_overflow;
      break;
    }
    if (timeout) {
      boost::beast::get_lowest_layer(stream).expires_after(*timeout);
      timeout.reset();
    }
    auto [read_ec, n] =
        co_await stream.async_read_some(space, boost::asio::as_tuple(boost::asio::use_awaitable));
    buffer.commit(n);
    if (read_ec == boost::asio::error::eof) {
      if (!parser.got_some()) {
        ec = http::error::end_of_stream;
        break;
      }
      parser.put_eof(ec);  // partial_message, or the end of a body delimited by close
      break;
    }
    if (read_ec) {
      ec = read_ec;
      break;
    }
  }
  co_return std::tuple{ec, total};
}

}  // namespace detail

// http::async_read_header without the posted completion: the header only
// (the body stays in `buffer`).
template <typename Stream, bool isRequest>
boost::asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> readHeader(
    Stream& stream, boost::beast::flat_buffer& buffer,
    boost::beast::http::basic_parser<isRequest>& parser, Timeout timeout = std::nullopt) {
  parser.eager(false);
  return detail::readUntil(
      stream, buffer, parser, [](const auto& p) { return p.is_header_done(); }, timeout);
}

// http::async_read (whole message) without the posted completion.
template <typename Stream, bool isRequest>
boost::asio::awaitable<std::tuple<boost::system::error_code, std::size_t>> readMessage(
    Stream& stream, boost::beast::flat_buffer& buffer,
    boost::beast::http::basic_parser<isRequest>& parser, Timeout timeout = std::nullopt) {
  parser.eager(true);
  return detail::readUntil(
      stream, buffer, parser, [](const auto& p) { return p.is_done(); }, timeout);
}

}  // namespace llmgate::net
