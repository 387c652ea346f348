#include "proxy/control/backoff.h"

#include <algorithm>
#include <memory>
#include <random>

namespace llmgate::proxy::control {

Backoff::Backoff(Duration initial, Duration max, Uniform uniform)
    : initial_(initial),
      max_(std::max(initial, max)),
      ceiling_(initial),
      uniform_(std::move(uniform)) {}

Backoff::Duration Backoff::next() {
  const double share = std::clamp(uniform_(), 0.0, 1.0);
  const Duration delay(static_cast<Duration::rep>(share * static_cast<double>(ceiling_.count())));
  ceiling_ = std::min(max_, ceiling_ * 2);
  return delay;
}

Backoff::Uniform randomUniform() {
  auto engine = std::make_shared<std::mt19937_64>(std::random_device{}());
  return [engine] { return std::uniform_real_distribution<double>(0.0, 1.0)(*engine); };
}

}  // namespace llmgate::proxy::control
