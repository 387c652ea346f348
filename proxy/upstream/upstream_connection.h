// One keep-alive connection to a provider, plain TCP or TLS, with its own
// read buffer. Owned by an UpstreamPool while idle, by a lease while in use.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "boost/asio/ssl/stream.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/ssl/ssl_stream.hpp"
#include "common/time/clock.h"

namespace llmgate::proxy::upstream {

class UpstreamConnection {
 public:
  using TcpStream = boost::beast::tcp_stream;
  using TlsStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

  explicit UpstreamConnection(TcpStream stream) : tcp_(std::move(stream)) {
    buffer_.reserve(kReadSize);
  }
  explicit UpstreamConnection(std::unique_ptr<TlsStream> stream) : tls_(std::move(stream)) {
    buffer_.reserve(kReadSize);
  }

  bool isTls() const { return tls_ != nullptr; }
  TcpStream& tcp() { return *tcp_; }
  TlsStream& tls() { return *tls_; }
  TcpStream& lowest() { return tls_ ? boost::beast::get_lowest_layer(*tls_) : *tcp_; }
  boost::beast::flat_buffer& buffer() { return buffer_; }
  // Body bytes land here first (allocated once per connection, never zeroed
  // per read), then are appended where the caller wants them.
  std::vector<char>& chunk() { return chunk_; }

  int requests_served = 0;
  std::size_t leased_index = 0;  // its place in the pool's list of leased connections
  time::SteadyTime idle_since{};

 private:
  // Beast reads as much as the buffer's free capacity (at least 512 bytes):
  // reserved up front, a whole typical answer arrives in one recvmsg.
  static constexpr std::size_t kReadSize = 16 * 1024;

  std::optional<TcpStream> tcp_;
  std::unique_ptr<TlsStream> tls_;
  boost::beast::flat_buffer buffer_;
  std::vector<char> chunk_ = std::vector<char>(16 * 1024);
};

}  // namespace llmgate::proxy::upstream
