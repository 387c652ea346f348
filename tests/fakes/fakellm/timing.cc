#include "tests/fakes/fakellm/timing.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace llmgate::fakellm {

int64_t sampleLatency(LatencyDist dist, int64_t base_ms, int64_t jitter_ms, Rng& rng) {
  if (base_ms <= 0 || jitter_ms <= 0 || dist == LatencyDist::kFixed)
    return std::max<int64_t>(base_ms, 0);
  if (dist == LatencyDist::kUniform) {
    std::uniform_int_distribution<int64_t> d(base_ms - jitter_ms, base_ms + jitter_ms);
    return std::max<int64_t>(d(rng), 0);
  }
  const double sigma = std::log1p(static_cast<double>(jitter_ms) / static_cast<double>(base_ms));
  std::lognormal_distribution<double> d(std::log(static_cast<double>(base_ms)), sigma);
  return std::llround(std::clamp(d(rng), 0.0, static_cast<double>(kMaxLatencyMs)));
}

int64_t ColdStart::delayFor(int64_t now_ms) {
  if (cold_start_ms_ <= 0) return 0;
  std::lock_guard lock(mu_);
  if (!seen_ || (idle_ms_ > 0 && now_ms - last_ms_ > idle_ms_)) {
    warm_at_ms_ = std::max(warm_at_ms_, now_ms + cold_start_ms_);
  }
  seen_ = true;
  last_ms_ = now_ms;
  return std::max<int64_t>(warm_at_ms_ - now_ms, 0);
}

}  // namespace llmgate::fakellm
