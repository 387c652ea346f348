#include "proxy/cache/coalescer.h"

#include <chrono>
#include <thread>
#include <vector>

#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/steady_timer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "gtest/gtest.h"

namespace llmgate::proxy::cache {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using Outcome = FollowResult::Outcome;

std::shared_ptr<const CachedResponse> answer(std::string body) {
  auto r = std::make_shared<CachedResponse>();
  r->body = std::move(body);
  return r;
}

asio::awaitable<void> sleepFor(std::chrono::milliseconds d) {
  asio::steady_timer t(co_await asio::this_coro::executor);
  t.expires_after(d);
  co_await t.async_wait(asio::use_awaitable);
}

struct Tally {
  int upstream_calls = 0;
  int shared = 0, failed = 0, deadline = 0;
};

// One request: leader calls "upstream" (a sleep), followers wait.
asio::awaitable<void> request(Coalescer& c, Tally& tally, bool leader_fails,
                              std::chrono::milliseconds deadline_in,
                              std::shared_ptr<const CachedResponse> expected) {
  auto joined = c.join("v1:scope:key");
  if (auto* leader = std::get_if<Coalescer::Leader>(&joined)) {
    ++tally.upstream_calls;
    co_await sleepFor(20ms);
    if (leader_fails) {
      leader->fail();
    } else {
      leader->complete(expected);
    }
    co_return;
  }
  auto& follower = std::get<Coalescer::Follower>(joined);
  const auto deadline = std::chrono::steady_clock::now() + deadline_in;
  FollowResult r = co_await follower.wait(deadline);
  EXPECT_LE(std::chrono::steady_clock::now(), deadline + 10ms);  // never outlives its deadline
  switch (r.outcome) {
    case Outcome::kShared:
      EXPECT_EQ(r.response.get(), expected.get());
      ++tally.shared;
      break;
    case Outcome::kLeaderFailed:
      ++tally.failed;
      break;
    case Outcome::kDeadline:
      ++tally.deadline;
      break;
  }
}

TEST(Coalescer, HerdMakesOneUpstreamCall) {
  asio::io_context io;
  Coalescer c;
  Tally tally;
  auto expected = answer("{}");
  for (int i = 0; i < 500; ++i) {
    asio::co_spawn(io, request(c, tally, false, 5s, expected), asio::detached);
  }
  io.run();
  EXPECT_EQ(tally.upstream_calls, 1);
  EXPECT_EQ(tally.shared, 499);
  EXPECT_EQ(c.stats().in_flight, 0u);
  EXPECT_EQ(c.stats().leaders, 1u);
}

TEST(Coalescer, LeaderFailureReleasesEveryWaiter) {
  asio::io_context io;
  Coalescer c;
  Tally tally;
  for (int i = 0; i < 50; ++i) {
    asio::co_spawn(io, request(c, tally, true, 5s, nullptr), asio::detached);
  }
  io.run();
  EXPECT_EQ(tally.upstream_calls, 1);
  EXPECT_EQ(tally.failed, 49);
}

TEST(Coalescer, WaiterGivesUpAtItsOwnDeadline) {
  asio::io_context io;
  Coalescer c;
  Tally tally;
  auto expected = answer("{}");
  asio::co_spawn(io, request(c, tally, false, 5s, expected), asio::detached);  // leader: 20 ms
  asio::co_spawn(io, request(c, tally, false, 5ms, expected), asio::detached);
  asio::co_spawn(io, request(c, tally, false, 5s, expected), asio::detached);
  io.run();
  EXPECT_EQ(tally.deadline, 1);
  EXPECT_EQ(tally.shared, 1);
  EXPECT_EQ(c.stats().deadlines, 1u);
}

TEST(Coalescer, DroppedLeaderFailsTheFlight) {
  asio::io_context io;
  Coalescer c;
  std::optional<FollowResult> got;
  {
    auto leader = c.join("k");
    ASSERT_TRUE(std::holds_alternative<Coalescer::Leader>(leader));
    auto follower = c.join("k");
    ASSERT_TRUE(std::holds_alternative<Coalescer::Follower>(follower));
    asio::co_spawn(
        io,
        [&, f = std::get<Coalescer::Follower>(follower)]() mutable -> asio::awaitable<void> {
          const auto deadline = std::chrono::steady_clock::now() + 5s;
          got = co_await f.wait(deadline);
        },
        asio::detached);
    io.poll();  // the follower is now waiting
  }             // the leader goes away without complete() or fail()
  io.run();
  ASSERT_TRUE(got);
  EXPECT_EQ(got->outcome, Outcome::kLeaderFailed);
  // The key is free again: the next caller leads.
  EXPECT_TRUE(std::holds_alternative<Coalescer::Leader>(c.join("k")));
}

TEST(Coalescer, WaitersOnOtherThreadsAreWokenOnTheirOwnExecutors) {
  Coalescer c;
  auto expected = answer("shared");
  auto leader_joined = c.join("k");
  ASSERT_TRUE(std::holds_alternative<Coalescer::Leader>(leader_joined));
  constexpr int kThreads = 4;
  std::vector<std::unique_ptr<asio::io_context>> ios;
  std::vector<std::thread> threads;
  std::atomic<int> shared{0};
  for (int t = 0; t < kThreads; ++t) {
    ios.push_back(std::make_unique<asio::io_context>());
    for (int i = 0; i < 25; ++i) {
      asio::co_spawn(
          *ios.back(),
          [&]() -> asio::awaitable<void> {
            auto joined = c.join("k");
            auto* f = std::get_if<Coalescer::Follower>(&joined);
            EXPECT_NE(f, nullptr);
            if (f == nullptr) co_return;
            const auto deadline = std::chrono::steady_clock::now() + 5s;
            FollowResult r = co_await f->wait(deadline);
            if (r.outcome == Outcome::kShared && r.response == expected) ++shared;
          },
          asio::detached);
    }
  }
  for (auto& io : ios) threads.emplace_back([&io] { io->run(); });
  std::this_thread::sleep_for(20ms);
  std::get<Coalescer::Leader>(leader_joined).complete(expected);
  for (auto& th : threads) th.join();
  EXPECT_EQ(shared.load(), kThreads * 25);
}

}  // namespace
}  // namespace llmgate::proxy::cache
