// net::readHeader / readMessage / writeAll against a real loopback TCP peer:
// the same results as Beast's composed operations whether the message is
// already buffered, arrives in pieces, or the connection closes early; and a
// write larger than the socket buffer completes once the peer reads.
#include "common/net/http_io.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "boost/asio/co_spawn.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/read.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/core/buffers_to_string.hpp"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/string_body.hpp"

namespace llmgate::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// A connected pair: `client` is a plain socket the test drives, `server` the
// beast::tcp_stream under test.
struct Pair {
  asio::io_context ioc;
  tcp::socket client{ioc};
  beast::tcp_stream server{ioc};

  Pair() {
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    client.connect(acceptor.local_endpoint());
    server.socket() = acceptor.accept();
  }

  template <typename T>
  T run(asio::awaitable<T> task) {
    std::optional<T> result;
    asio::co_spawn(ioc, std::move(task), [&](std::exception_ptr e, T value) {
      if (e) std::rethrow_exception(e);
      result = std::move(value);
    });
    ioc.run_for(std::chrono::seconds(10));
    ioc.restart();
    EXPECT_TRUE(result.has_value()) << "the operation did not complete";
    return result.value_or(T{});
  }
};

using ReadResult = std::tuple<boost::system::error_code, std::size_t>;
constexpr std::string_view kRequest =
    "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n{\"a\":\"bcd\"}";

TEST(HttpIoTest, ParsesAMessageAlreadyInTheBuffer) {
  Pair p;
  beast::flat_buffer buffer;
  const auto n = asio::buffer_copy(buffer.prepare(kRequest.size() + 40),
                                   asio::buffer(std::string(kRequest) + "GET / HTTP/1.1\r\n"));
  buffer.commit(n);
  http::request_parser<http::string_body> parser;
  auto [ec, used] = p.run(readHeader(p.server, buffer, parser));
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(parser.is_header_done());
  EXPECT_FALSE(parser.is_done());
  auto [body_ec, body_used] = p.run(readMessage(p.server, buffer, parser));
  ASSERT_FALSE(body_ec) << body_ec.message();
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(parser.get().body(), "{\"a\":\"bcd\"}");
  EXPECT_EQ(used + body_used, kRequest.size());
  // The next pipelined request stays in the buffer, untouched.
  EXPECT_EQ(beast::buffers_to_string(buffer.data()), "GET / HTTP/1.1\r\n");
}

TEST(HttpIoTest, ReadsAMessageThatArrivesInPieces) {
  Pair p;
  beast::flat_buffer buffer;
  http::request_parser<http::string_body> parser;
  std::thread writer([&] {
    for (std::size_t at = 0; at < kRequest.size(); at += 7) {
      asio::write(p.client, asio::buffer(kRequest.substr(at, 7)));
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  });
  auto [ec, used] = p.run(readMessage(p.server, buffer, parser));
  writer.join();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(parser.get().body(), "{\"a\":\"bcd\"}");
  EXPECT_EQ(parser.get().target(), "/v1/chat/completions");
}

TEST(HttpIoTest, CloseBeforeAnyByteIsEndOfStream) {
  Pair p;
  p.client.close();
  beast::flat_buffer buffer;
  http::request_parser<http::string_body> parser;
  auto [ec, used] = p.run(readHeader(p.server, buffer, parser));
  EXPECT_EQ(ec, http::error::end_of_stream);
}

TEST(HttpIoTest, CloseInsideTheBodyIsPartialMessage) {
  Pair p;
  asio::write(p.client, asio::buffer(kRequest.substr(0, kRequest.size() - 3)));
  p.client.shutdown(tcp::socket::shutdown_send);
  beast::flat_buffer buffer;
  http::request_parser<http::string_body> parser;
  auto [ec, used] = p.run(readMessage(p.server, buffer, parser));
  EXPECT_EQ(ec, http::error::partial_message);
}

TEST(HttpIoTest, ABodyDelimitedByCloseEndsCleanly) {
  Pair p;
  asio::write(p.client, asio::buffer(std::string_view("HTTP/1.1 200 OK\r\n\r\nall of it")));
  p.client.shutdown(tcp::socket::shutdown_send);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  auto [ec, used] = p.run(readMessage(p.server, buffer, parser));
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(parser.get().body(), "all of it");
}

TEST(HttpIoTest, HeaderLimitIsReported) {
  Pair p;
  beast::flat_buffer buffer;
  http::request_parser<http::string_body> parser;
  parser.header_limit(64);
  std::string big = "GET / HTTP/1.1\r\nX-Long: " + std::string(200, 'a') + "\r\n\r\n";
  asio::write(p.client, asio::buffer(big));
  auto [ec, used] = p.run(readHeader(p.server, buffer, parser));
  EXPECT_EQ(ec, http::error::header_limit);
}

TEST(HttpIoTest, TimeoutOfTheStreamApplies) {
  Pair p;
  beast::flat_buffer buffer;
  http::request_parser<http::string_body> parser;
  asio::write(p.client, asio::buffer(kRequest.substr(0, 20)));
  p.server.expires_after(std::chrono::milliseconds(50));
  auto [ec, used] = p.run(readHeader(p.server, buffer, parser));
  EXPECT_EQ(ec, beast::error::timeout);
}

// The timeout given to a read is set only before a read that waits: a
// buffered header is parsed even though the stream's last expiry has passed,
// and a header that does not come in time ends with `timeout`.
TEST(HttpIoTest, TimeoutParameterAppliesOnlyToReadsThatWait) {
  Pair p;
  p.server.expires_after(std::chrono::milliseconds(0));  // an expiry long past
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  beast::flat_buffer buffer;
  const auto n = asio::buffer_copy(buffer.prepare(kRequest.size()), asio::buffer(kRequest));
  buffer.commit(n);
  http::request_parser<http::string_body> parser;
  auto [ec, used] = p.run(readMessage(p.server, buffer, parser, std::chrono::milliseconds(50)));
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_EQ(parser.get().body(), "{\"a\":\"bcd\"}");

  http::request_parser<http::string_body> next;
  asio::write(p.client, asio::buffer(kRequest.substr(0, 20)));
  const auto start = std::chrono::steady_clock::now();
  auto [late_ec, late_used] =
      p.run(readHeader(p.server, buffer, next, std::chrono::milliseconds(50)));
  EXPECT_EQ(late_ec, beast::error::timeout);
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(45));
}

TEST(HttpIoTest, WriteLargerThanTheSocketBufferCompletes) {
  Pair p;
  // More than the loopback send and receive buffers hold: the non-blocking
  // send takes part of it, the asynchronous write the rest once the peer reads.
  std::string payload(8 * 1024 * 1024, 'x');
  for (std::size_t i = 0; i < payload.size(); i += 4096)
    payload[i] = static_cast<char>('a' + i % 26);
  const std::string head = "head:";
  std::string received;
  std::thread reader([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the send buffer fill
    received.resize(head.size() + payload.size());
    asio::read(p.client, asio::buffer(received));
  });
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(head), asio::buffer(payload)};
  p.server.expires_after(std::chrono::seconds(5));
  const boost::system::error_code ec = p.run(writeAll(p.server, buffers));
  reader.join();
  ASSERT_FALSE(ec) << ec.message();
  EXPECT_TRUE(received == head + payload);
}

TEST(HttpIoTest, WriteToAClosedPeerFails) {
  Pair p;
  p.client.close();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  const std::string data(1 << 20, 'x');
  boost::system::error_code ec;
  for (int i = 0; i < 4 && !ec; ++i) ec = p.run(writeAll(p.server, asio::buffer(data)));
  EXPECT_TRUE(ec == asio::error::broken_pipe || ec == asio::error::connection_reset)
      << ec.message();
}

}  // namespace
}  // namespace llmgate::net
