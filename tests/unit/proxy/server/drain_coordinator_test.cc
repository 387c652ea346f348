#include "proxy/server/drain_coordinator.h"

#include <gtest/gtest.h>

#include <vector>

#include "boost/asio/co_spawn.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/steady_timer.hpp"

namespace llmgate::proxy::server {
namespace {

namespace asio = boost::asio;
using std::chrono::milliseconds;

// A worker whose requests end on their own after `finish_after`, or at once
// when aborted; it records the order of calls.
class FakeWorker : public Drainable {
 public:
  FakeWorker(asio::io_context& ioc, ServerState& state, std::vector<std::string>& calls)
      : ioc_(ioc), state_(state), calls_(calls), timer_(ioc) {}

  void startRequests(int n, milliseconds finish_after) {
    requests_ = n;
    state_.inflight_requests += n;
    state_.open_connections += n;
    timer_.expires_after(finish_after);
    timer_.async_wait([this](const boost::system::error_code& ec) {
      if (!ec) end("finished");
    });
  }
  void beginDrain() override { calls_.push_back("beginDrain"); }
  void abortInFlight() override {
    calls_.push_back("abortInFlight");
    // Posted like the real worker: the requests end a moment later.
    asio::post(ioc_, [this] { end("aborted"); });
  }

 private:
  void end(const char* how) {
    if (requests_ == 0) return;
    calls_.push_back(how);
    state_.inflight_requests -= requests_;
    state_.open_connections -= requests_;
    requests_ = 0;
    timer_.cancel();
  }

  asio::io_context& ioc_;
  ServerState& state_;
  std::vector<std::string>& calls_;
  asio::steady_timer timer_;
  int requests_ = 0;
};

DrainReport runDrain(asio::io_context& ioc, DrainCoordinator& coordinator, DrainTimings timings) {
  DrainReport report;
  asio::co_spawn(ioc, coordinator.run(timings), [&](std::exception_ptr e, DrainReport r) {
    if (e) std::rethrow_exception(e);
    report = r;
  });
  ioc.run();
  return report;
}

TEST(DrainCoordinatorTest, WaitsForRequestsThatFinishBeforeTheDeadline) {
  asio::io_context ioc;
  ServerState state;
  std::vector<std::string> calls;
  FakeWorker worker(ioc, state, calls);
  worker.startRequests(5, milliseconds(100));
  DrainCoordinator coordinator(state, {&worker});
  const DrainReport report = runDrain(ioc, coordinator, {.drain_timeout = milliseconds(2000)});
  EXPECT_TRUE(state.draining.load());
  EXPECT_FALSE(report.deadline_hit);
  EXPECT_EQ(report.inflight_at_start, 5);
  EXPECT_EQ(report.left_inflight, 0);
  EXPECT_EQ(calls, (std::vector<std::string>{"beginDrain", "finished"}));
  EXPECT_GE(report.took, milliseconds(90));
  EXPECT_LT(report.took, milliseconds(1000));
}

TEST(DrainCoordinatorTest, AbortsWhatIsLeftAtTheDeadline) {
  asio::io_context ioc;
  ServerState state;
  std::vector<std::string> calls;
  FakeWorker slow(ioc, state, calls), idle(ioc, state, calls);
  slow.startRequests(3, milliseconds(10000));
  DrainCoordinator coordinator(state, {&slow, &idle});
  const DrainReport report = runDrain(ioc, coordinator, {.drain_timeout = milliseconds(200)});
  EXPECT_TRUE(report.deadline_hit);
  EXPECT_EQ(report.left_inflight, 0);
  EXPECT_EQ(report.left_connections, 0);
  EXPECT_EQ(calls, (std::vector<std::string>{"beginDrain", "beginDrain", "abortInFlight",
                                             "abortInFlight", "aborted"}));
  EXPECT_GE(report.took, milliseconds(190));
  EXPECT_LT(report.took, milliseconds(1000));
}

TEST(DrainCoordinatorTest, GivesUpAfterTheAbortGrace) {
  asio::io_context ioc;
  ServerState state;
  state.inflight_requests = 1;  // a request nothing will end
  DrainCoordinator coordinator(state, {});
  const DrainReport report = runDrain(ioc, coordinator,
                                      {.drain_timeout = milliseconds(50),
                                       .abort_grace = milliseconds(100),
                                       .linger = milliseconds(10)});
  EXPECT_TRUE(report.deadline_hit);
  EXPECT_EQ(report.left_inflight, 1);
  EXPECT_GE(report.took, milliseconds(150));
  EXPECT_LT(report.took, milliseconds(1000));
}

TEST(DrainCoordinatorTest, ZeroDrainTimeoutAbortsAtOnce) {
  asio::io_context ioc;
  ServerState state;
  std::vector<std::string> calls;
  FakeWorker worker(ioc, state, calls);
  worker.startRequests(1, milliseconds(10000));
  DrainCoordinator coordinator(state, {&worker});
  const DrainReport report = runDrain(ioc, coordinator, {.drain_timeout = milliseconds(0)});
  EXPECT_TRUE(report.deadline_hit);
  EXPECT_EQ(report.left_inflight, 0);
  EXPECT_LT(report.took, milliseconds(500));
}

}  // namespace
}  // namespace llmgate::proxy::server
