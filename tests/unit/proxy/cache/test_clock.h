#pragma once

#include "common/time/clock.h"

namespace llmgate::proxy::cache::testing {

class FakeClock final : public time::Clock {
 public:
  time::SteadyTime steadyNow() const override { return steady_; }
  time::SystemTime systemNow() const override { return time::SystemTime{}; }
  void advance(std::chrono::nanoseconds d) {
    steady_ += std::chrono::duration_cast<std::chrono::steady_clock::duration>(d);
  }

 private:
  time::SteadyTime steady_{std::chrono::hours(1)};
};

}  // namespace llmgate::proxy::cache::testing
