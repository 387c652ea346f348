#include "common/net/deadlines.h"

#include <chrono>
#include <memory>
#include <vector>

#include "boost/asio/io_context.hpp"
#include "boost/asio/post.hpp"
#include "gtest/gtest.h"

namespace llmgate::net {
namespace {

using namespace std::chrono_literals;
using Lane = Deadlines::Lane;

struct Fired {
  std::vector<int>* order;
  int id;
};

void record(void* context) {
  auto* fired = static_cast<Fired*>(context);
  fired->order->push_back(fired->id);
}

TEST(DeadlinesTest, FiresInDeadlineOrderAcrossLanesAndSkipsDisarmed) {
  boost::asio::io_context ioc(1);
  Deadlines& deadlines = Deadlines::of(ioc);
  std::vector<int> order;
  Fired f1{&order, 1}, f2{&order, 2}, f3{&order, 3}, f4{&order, 4}, f5{&order, 5};
  Deadlines::Entry e1, e2, e3, e4, e5;
  const auto now = time::steadyNow();
  // Out of order within a lane (sorted insert), spread over both lanes.
  deadlines.arm(e1, Lane::kClientIdle, now + 40ms, &record, &f1);
  deadlines.arm(e2, Lane::kClientIdle, now + 10ms, &record, &f2);
  deadlines.arm(e3, Lane::kUpstreamExchange, now + 20ms, &record, &f3);
  deadlines.arm(e4, Lane::kClientIdle, now + 30ms, &record, &f4);
  deadlines.arm(e5, Lane::kUpstreamExchange, now + 5ms, &record, &f5);
  EXPECT_EQ(deadlines.size(Lane::kClientIdle), 3u);
  EXPECT_EQ(deadlines.size(Lane::kUpstreamExchange), 2u);
  e4.disarm();  // disarmed before its deadline: never fires
  EXPECT_FALSE(e4.armed());
  EXPECT_EQ(deadlines.size(Lane::kClientIdle), 2u);
  ioc.run_for(1s);
  EXPECT_EQ(order, (std::vector<int>{5, 2, 3, 1}));
  EXPECT_TRUE(e1.expired());
  EXPECT_FALSE(e1.armed());
  EXPECT_FALSE(e4.expired());
  EXPECT_EQ(deadlines.size(Lane::kClientIdle), 0u);
  EXPECT_EQ(deadlines.size(Lane::kUpstreamExchange), 0u);
}

TEST(DeadlinesTest, ReArmingMovesTheDeadlineAndClearsExpired) {
  boost::asio::io_context ioc(1);
  Deadlines& deadlines = Deadlines::of(ioc);
  std::vector<int> order;
  Fired f1{&order, 1}, f2{&order, 2};
  Deadlines::Entry e1, e2;
  const auto start = time::steadyNow();
  deadlines.arm(e1, Lane::kClientIdle, start + 5ms, &record, &f1);
  deadlines.arm(e2, Lane::kClientIdle, start + 30ms, &record, &f2);
  // Pushed past e2: the earlier wait of the timer fires and finds nothing due.
  deadlines.arm(e1, Lane::kClientIdle, start + 60ms, &record, &f1);
  ioc.run_for(1s);
  EXPECT_EQ(order, (std::vector<int>{2, 1}));
  EXPECT_GE(time::steadyNow() - start, 60ms);
  ASSERT_TRUE(e1.expired());
  ioc.restart();
  deadlines.arm(e1, Lane::kClientIdle, time::steadyNow() + 1h, &record, &f1);
  EXPECT_FALSE(e1.expired());
  EXPECT_TRUE(e1.armed());
}

struct Repeat {
  Deadlines* deadlines;
  Deadlines::Entry entry;
  int fired = 0;
};

// Arms its own entry again, already due, until it has fired three times.
void rearm(void* context) {
  auto* repeat = static_cast<Repeat*>(context);
  EXPECT_TRUE(repeat->entry.expired());
  EXPECT_FALSE(repeat->entry.armed());
  if (++repeat->fired < 3) {
    repeat->deadlines->arm(repeat->entry, Lane::kUpstreamExchange, time::steadyNow() - 1s, &rearm,
                           repeat);
  }
}

TEST(DeadlinesTest, PastDeadlineFiresAtOnceAndACallbackMayArmAgain) {
  boost::asio::io_context ioc(1);
  Deadlines& deadlines = Deadlines::of(ioc);
  Repeat repeat{&deadlines, {}, 0};
  deadlines.arm(repeat.entry, Lane::kUpstreamExchange, time::steadyNow() - 1s, &rearm, &repeat);
  const auto start = time::steadyNow();
  ioc.run_for(1s);
  EXPECT_EQ(repeat.fired, 3);
  EXPECT_LT(time::steadyNow() - start, 500ms);  // nothing waited for a later deadline
}

// A session's entry lives in its coroutine frame, which ~io_context
// destroys during shutdown: the entry then unlinks itself from a service that
// is shut down but not yet destroyed (ASan builds check the memory).
TEST(DeadlinesTest, AnEntryDestroyedByTheIoContextShutdownDisarmsSafely) {
  std::vector<int> order;
  Fired f1{&order, 1};
  bool destroyed = false;
  {
    boost::asio::io_context ioc(1);
    std::shared_ptr<Deadlines::Entry> entry(new Deadlines::Entry,
                                            [&destroyed](Deadlines::Entry* e) {
                                              EXPECT_TRUE(e->armed());
                                              delete e;
                                              destroyed = true;
                                            });
    Deadlines::of(ioc).arm(*entry, Lane::kClientIdle, time::steadyNow() + 1h, &record, &f1);
    boost::asio::post(ioc, [entry = std::move(entry)] {});  // never run
  }
  EXPECT_TRUE(destroyed);
  EXPECT_TRUE(order.empty());
}

}  // namespace
}  // namespace llmgate::net
