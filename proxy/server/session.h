// One client connection: HTTP/1.1 keep-alive request loop as a coroutine.
// Limits and timeouts come from `server:` (headers, body, idle); bad input is
// answered with an OpenAI-shaped error and, when the stream can no longer be
// trusted, the connection is closed.
#pragma once

#include "boost/asio/awaitable.hpp"
#include "boost/beast/core/tcp_stream.hpp"

namespace llmgate::proxy::server {

class Worker;

boost::asio::awaitable<void> runSession(Worker& worker, boost::beast::tcp_stream stream);

}  // namespace llmgate::proxy::server
