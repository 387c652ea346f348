#include "proxy/server/drain_coordinator.h"

#include <functional>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/this_coro.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "common/log/log.h"
#include "common/time/clock.h"

namespace llmgate::proxy::server {
namespace {

namespace asio = boost::asio;
constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);

std::int64_t millis(config::Duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// Polls `done` every `poll` until it holds or `until` passes; true if it held.
asio::awaitable<bool> waitFor(const std::function<bool()>& done, time::SteadyTime until,
                              config::Duration poll) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (!done()) {
    const time::SteadyTime now = time::steadyNow();
    if (now >= until) co_return false;
    timer.expires_at(std::min(until, now + poll));
    co_await timer.async_wait(kTuple);
  }
  co_return true;
}

}  // namespace

asio::awaitable<DrainReport> DrainCoordinator::run(DrainTimings timings) {
  const time::SteadyTime start = time::steadyNow();
  DrainReport report;
  state_.draining.store(true);
  for (Drainable* worker : workers_) worker->beginDrain();
  report.inflight_at_start = state_.inflight_requests.load();
  log::info("draining: listeners closed, ", report.inflight_at_start,
            " request(s) in flight, up to ", millis(timings.drain_timeout),
            " ms (server.drain_timeout)");

  // Named locals, not temporaries, in the co_await expressions (GCC 12).
  const std::function<bool()> no_requests = [this] { return state_.inflight_requests.load() <= 0; };
  const std::function<bool()> no_connections = [this] {
    return state_.open_connections.load() <= 0;
  };
  const time::SteadyTime deadline = start + timings.drain_timeout;
  if (!co_await waitFor(no_requests, deadline, timings.poll)) {
    report.deadline_hit = true;
    log::warn("drain: server.drain_timeout passed with ", state_.inflight_requests.load(),
              " request(s) still in flight; ending them (streams get the terminal event "
              "server_shutting_down)");
    for (Drainable* worker : workers_) worker->abortInFlight();
    const time::SteadyTime grace_end = time::steadyNow() + timings.abort_grace;
    co_await waitFor(no_requests, grace_end, timings.poll);
  }
  // Responses are written; let the sessions close their sockets.
  const time::SteadyTime linger_end = time::steadyNow() + timings.linger;
  co_await waitFor(no_connections, linger_end, timings.poll);
  report.left_inflight = state_.inflight_requests.load();
  report.left_connections = state_.open_connections.load();
  report.took = std::chrono::duration_cast<config::Duration>(time::steadyNow() - start);
  log::info("drained in ", millis(report.took), " ms (", report.left_inflight, " request(s) and ",
            report.left_connections, " connection(s) left); exiting");
  co_return report;
}

}  // namespace llmgate::proxy::server
