// Graceful drain on SIGTERM/SIGINT (R65; docs/DATA_PLANE.md "Shutdown"):
//  1. state.draining is set: /readyz answers 503 at once and every response
//     sent from now on says `Connection: close`;
//  2. every worker closes its acceptor (new connections are refused) and its
//     idle keep-alive client connections;
//  3. requests and streams in flight run on until they end, for up to
//     `drain_timeout`;
//  4. at that deadline every worker cuts its upstream exchanges: a stream
//     already started ends with the terminal event `server_shutting_down`, a
//     request whose headers were not sent gets 503 `server_shutting_down`;
//  5. up to `abort_grace` for those last bytes to be written, then run()
//     returns and the caller stops the workers.
// It runs as a coroutine on the main thread's io_context: it only posts to
// the workers and polls atomics, so no worker thread ever waits for it.
#pragma once

#include <cstdint>
#include <vector>

#include "boost/asio/awaitable.hpp"
#include "common/config/schema.h"
#include "proxy/server/server_state.h"

namespace llmgate::proxy::server {

// What a drain needs from a worker. Both calls return at once (they post).
class Drainable {
 public:
  virtual ~Drainable() = default;
  virtual void beginDrain() = 0;
  virtual void abortInFlight() = 0;
};

struct DrainTimings {
  config::Duration drain_timeout{0};
  config::Duration abort_grace = std::chrono::seconds(1);    // after the deadline
  config::Duration linger = std::chrono::milliseconds(250);  // for connections to close
  config::Duration poll = std::chrono::milliseconds(10);
};

struct DrainReport {
  bool deadline_hit = false;  // in-flight work was cut at drain_timeout
  std::int64_t inflight_at_start = 0;
  std::int64_t left_inflight = 0;     // still running when run() gave up
  std::int64_t left_connections = 0;  // still open when run() returned
  config::Duration took{0};
};

class DrainCoordinator {
 public:
  DrainCoordinator(ServerState& state, std::vector<Drainable*> workers)
      : state_(state), workers_(std::move(workers)) {}

  boost::asio::awaitable<DrainReport> run(DrainTimings timings);

 private:
  ServerState& state_;
  std::vector<Drainable*> workers_;
};

}  // namespace llmgate::proxy::server
