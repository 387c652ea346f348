// Process-wide counters and flags every worker reads (atomics, no locks).
#pragma once

#include <atomic>
#include <cstdint>

namespace llmgate::proxy::server {

struct ServerState {
  std::atomic<bool> ready{false};     // listening and a config loaded
  std::atomic<bool> draining{false};  // SIGTERM: /readyz 503, Connection: close, finish in-flight
  std::atomic<std::int64_t> inflight_requests{0};
  std::atomic<std::int64_t> open_connections{0};
};

}  // namespace llmgate::proxy::server
