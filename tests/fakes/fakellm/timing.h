// Latency shapes: per-request jitter and the cold start after an idle period.
#pragma once

#include <cstdint>
#include <mutex>

#include "tests/fakes/fakellm/dialect.h"

namespace llmgate::fakellm {

enum class LatencyDist { kFixed, kUniform, kLognormal };

// No single wait is longer than a day (a long lognormal tail stays finite).
inline constexpr int64_t kMaxLatencyMs = 24LL * 3600 * 1000;

// A latency around `base_ms`: fixed; uniform in [base - jitter, base + jitter];
// or lognormal with median `base_ms` and sigma ln(1 + jitter / base). Never
// negative; a zero base stays zero.
int64_t sampleLatency(LatencyDist dist, int64_t base_ms, int64_t jitter_ms, Rng& rng);

// The process starts cold: its first request waits `cold_start_ms`; later, a
// request arriving more than `idle_ms` after the previous one waits again
// (idle_ms 0: only the first). Requests arriving while it warms up wait until
// it is warm. Time is passed in, so tests control it.
class ColdStart {
 public:
  ColdStart(int64_t cold_start_ms, int64_t idle_ms)
      : cold_start_ms_(cold_start_ms), idle_ms_(idle_ms) {}

  // How long a request arriving at `now_ms` (any monotonic clock) waits.
  int64_t delayFor(int64_t now_ms);

 private:
  const int64_t cold_start_ms_;
  const int64_t idle_ms_;
  std::mutex mu_;
  bool seen_ = false;
  int64_t last_ms_ = 0;
  int64_t warm_at_ms_ = 0;
};

}  // namespace llmgate::fakellm
