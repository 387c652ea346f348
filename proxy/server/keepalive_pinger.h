// Warm upstreams (`providers[].keepalive_ping`): every worker keeps its own
// pool to such a provider warm. When the pool has been idle for `interval`,
// it sends the cheapest request (one output token of keepalive_ping.model)
// and reports whether it worked and how long the first byte took, so cold
// starts show in the metrics (llmgate_keepalive_pings_total, ..._first_byte).
#pragma once

#include "boost/asio/awaitable.hpp"

namespace llmgate::proxy::server {

class Worker;

// Runs until the worker's io_context stops.
boost::asio::awaitable<void> runKeepalivePinger(Worker& worker);

}  // namespace llmgate::proxy::server
