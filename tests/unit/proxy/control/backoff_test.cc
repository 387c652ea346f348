#include "proxy/control/backoff.h"

#include <gtest/gtest.h>

namespace llmgate::proxy::control {
namespace {

using std::chrono::milliseconds;

TEST(BackoffTest, CeilingDoublesFromHalfASecondToThirtySeconds) {
  Backoff backoff(milliseconds(500), milliseconds(30000), [] { return 0.999999; });
  const milliseconds expected[] = {milliseconds(499),   milliseconds(999),   milliseconds(1999),
                                   milliseconds(3999),  milliseconds(7999),  milliseconds(15999),
                                   milliseconds(29999), milliseconds(29999), milliseconds(29999)};
  for (milliseconds want : expected) EXPECT_EQ(backoff.next(), want);
}

TEST(BackoffTest, FullJitterDrawsBetweenZeroAndTheCeiling) {
  double share = 0.0;
  Backoff backoff(milliseconds(500), milliseconds(30000), [&] { return share; });
  EXPECT_EQ(backoff.next(), milliseconds(0));
  share = 0.5;
  EXPECT_EQ(backoff.next(), milliseconds(500));  // half of 1 s
  // Out-of-range draws are clamped, never above the ceiling.
  share = 7.0;
  EXPECT_EQ(backoff.next(), milliseconds(2000));
  share = -1.0;
  EXPECT_EQ(backoff.next(), milliseconds(0));
}

TEST(BackoffTest, ResetStartsAgainFromInitial) {
  Backoff backoff(milliseconds(500), milliseconds(30000), [] { return 1.0; });
  for (int i = 0; i < 10; ++i) backoff.next();
  EXPECT_EQ(backoff.ceiling(), milliseconds(30000));
  backoff.reset();
  EXPECT_EQ(backoff.next(), milliseconds(500));
}

TEST(BackoffTest, RandomUniformStaysInRangeAndSpreads) {
  Backoff backoff(milliseconds(30000), milliseconds(30000), randomUniform());
  milliseconds low(30000), high(0);
  for (int i = 0; i < 200; ++i) {
    const milliseconds d = backoff.next();
    ASSERT_GE(d, milliseconds(0));
    ASSERT_LE(d, milliseconds(30000));
    low = std::min(low, d);
    high = std::max(high, d);
  }
  EXPECT_LT(low, milliseconds(5000));  // jitter, not lock step
  EXPECT_GT(high, milliseconds(25000));
}

}  // namespace
}  // namespace llmgate::proxy::control
