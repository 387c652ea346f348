// "0.0.0.0:8080", "127.0.0.1:0", "[::1]:9901", "localhost:8080" -> endpoint.
#pragma once

#include <string_view>

#include "absl/status/statusor.h"
#include "boost/asio/ip/tcp.hpp"

namespace llmgate::proxy::server {

absl::StatusOr<boost::asio::ip::tcp::endpoint> parseListenAddress(std::string_view text);

}  // namespace llmgate::proxy::server
