#include <gtest/gtest.h>

#include <set>

#include "proxy/retry/backoff.h"
#include "proxy/retry/rate_limit_headers.h"
#include "proxy/retry/retry_budget.h"

namespace llmgate::proxy::retry {
namespace {

using std::chrono::milliseconds;
namespace http = boost::beast::http;

time::SystemTime at(int year, int month, int day, int h, int m, int s) {
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = h;
  tm.tm_min = m;
  tm.tm_sec = s;
  return std::chrono::system_clock::from_time_t(timegm(&tm));
}

TEST(BackoffTest, FullJitterStaysWithinBoundsAndVaries) {
  std::mt19937_64 rng(42);
  std::set<long> seen;
  for (int i = 0; i < 200; ++i) {
    const auto d = fullJitterBackoff(1, milliseconds(100), milliseconds(8000), rng);
    EXPECT_GE(d.count(), 0);
    EXPECT_LT(d.count(), 200);  // base * (2^1)
    seen.insert(d.count());
  }
  EXPECT_GT(seen.size(), 50u);  // not a constant
  for (int i = 0; i < 50; ++i) {
    EXPECT_LT(fullJitterBackoff(20, milliseconds(100), milliseconds(8000), rng).count(), 8000);
  }
  EXPECT_EQ(fullJitterBackoff(3, milliseconds(0), milliseconds(8000), rng).count(), 0);
}

TEST(RateLimitHeadersTest, DeltaSecondsVariants) {
  EXPECT_EQ(parseDeltaSeconds("2"), milliseconds(2000));
  EXPECT_EQ(parseDeltaSeconds("2.5"), milliseconds(2500));
  EXPECT_EQ(parseDeltaSeconds(" 3 "), milliseconds(3000));
  for (std::string_view bad :
       {"-1", "", "abc", "99999999999", "1e3", "2..5", ".5", "NaN", "\xc2\xb2"}) {
    EXPECT_FALSE(parseDeltaSeconds(bad).has_value()) << bad;
  }
}

TEST(RateLimitHeadersTest, GoDurations) {
  EXPECT_EQ(parseGoDuration("6m0s"), milliseconds(360000));
  EXPECT_EQ(parseGoDuration("1.5s"), milliseconds(1500));
  EXPECT_EQ(parseGoDuration("12ms"), milliseconds(12));
  EXPECT_EQ(parseGoDuration("1h2m3s"), milliseconds(3723000));
  for (std::string_view bad : {"", "5", "5x", "-1s", "s", "1.2.3s", "999999h"}) {
    EXPECT_FALSE(parseGoDuration(bad).has_value()) << bad;
  }
}

TEST(RateLimitHeadersTest, HttpDateAndRfc3339) {
  EXPECT_EQ(parseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT"), at(1994, 11, 6, 8, 49, 37));
  EXPECT_FALSE(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT").has_value());
  EXPECT_FALSE(parseHttpDate("Sun, 06 Foo 1994 08:49:37 GMT").has_value());
  EXPECT_EQ(parseRfc3339("2026-11-24T10:00:00Z"), at(2026, 11, 24, 10, 0, 0));
  EXPECT_EQ(parseRfc3339("2026-11-24T11:00:00+01:00"), at(2026, 11, 24, 10, 0, 0));
  EXPECT_EQ(parseRfc3339("2026-11-24T10:00:00.500Z"),
            at(2026, 11, 24, 10, 0, 0) + milliseconds(500));
  EXPECT_FALSE(parseRfc3339("2026-13-24T10:00:00Z").has_value());
  EXPECT_FALSE(parseRfc3339("yesterday").has_value());
}

TEST(RateLimitHeadersTest, HeaderPrecedenceAndGarbage) {
  const auto now = at(2026, 11, 24, 10, 0, 0);
  http::fields h;
  h.set("retry-after", "2");
  h.set("retry-after-ms", "1500");
  EXPECT_EQ(parseRateLimitHeaders(h, now).retry_after, milliseconds(1500));

  http::fields date;
  date.set("retry-after", "Tue, 24 Nov 2026 10:00:30 GMT");
  EXPECT_EQ(parseRateLimitHeaders(date, now).retry_after, milliseconds(30000));
  http::fields past;
  past.set("retry-after", "Tue, 24 Nov 2026 09:00:00 GMT");
  EXPECT_FALSE(parseRateLimitHeaders(past, now).retry_after.has_value());

  http::fields repeated;
  repeated.insert("retry-after", "1");
  repeated.insert("retry-after", "5");
  EXPECT_FALSE(parseRateLimitHeaders(repeated, now).retry_after.has_value());

  http::fields garbage;
  garbage.set("retry-after", "-1");
  garbage.set("retry-after-ms", "soon");
  EXPECT_FALSE(parseRateLimitHeaders(garbage, now).retry_after.has_value());
}

TEST(RateLimitHeadersTest, ProactivePacingFromRemainingZero) {
  const auto now = at(2026, 11, 24, 10, 0, 0);
  http::fields openai;
  openai.set("x-ratelimit-remaining-requests", "0");
  openai.set("x-ratelimit-reset-requests", "1.5s");
  openai.set("x-ratelimit-remaining-tokens", "100");
  openai.set("x-ratelimit-reset-tokens", "6m0s");
  EXPECT_EQ(parseRateLimitHeaders(openai, now).exhausted_for, milliseconds(1500));

  http::fields healthy;
  healthy.set("x-ratelimit-remaining-requests", "59");
  healthy.set("x-ratelimit-reset-requests", "1s");
  EXPECT_FALSE(parseRateLimitHeaders(healthy, now).exhausted_for.has_value());

  http::fields anthropic;
  anthropic.set("anthropic-ratelimit-requests-remaining", "0");
  anthropic.set("anthropic-ratelimit-requests-reset", "2026-11-24T10:00:20Z");
  const auto hints = parseRateLimitHeaders(anthropic, now);
  EXPECT_EQ(hints.exhausted_for, milliseconds(20000));
  EXPECT_EQ(hints.retry_after, milliseconds(20000));
}

TEST(RetryBudgetTest, AllowsMinimumThenPercentOfActive) {
  RetryBudget budget;
  std::vector<RetryBudget::RetryToken> tokens;
  for (int i = 0; i < 3; ++i) {
    tokens.push_back(budget.tryRetry(20));
    EXPECT_TRUE(tokens.back());
  }
  EXPECT_FALSE(budget.tryRetry(20));  // no active requests: only the minimum of 3
  {
    std::vector<std::unique_ptr<RetryBudget::ActiveAttempt>> active;
    for (int i = 0; i < 50; ++i)
      active.push_back(std::make_unique<RetryBudget::ActiveAttempt>(budget));
    // 20 % of 50 = 10 retries in flight.
    for (int i = 3; i < 10; ++i) {
      tokens.push_back(budget.tryRetry(20));
      EXPECT_TRUE(tokens.back()) << i;
    }
    EXPECT_FALSE(budget.tryRetry(20));
  }
  EXPECT_EQ(budget.activeAttempts(), 0);
  tokens.clear();
  EXPECT_EQ(budget.activeRetries(), 0);
  // R21: once the burst's retries are done, retries are allowed again.
  RetryBudget::RetryToken again = budget.tryRetry(20);
  EXPECT_TRUE(again);
}

}  // namespace
}  // namespace llmgate::proxy::retry
