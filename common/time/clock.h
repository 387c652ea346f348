// The one place that reads clocks. Code takes a Clock& (or uses these helpers
// where a test never needs to control time), so tests can inject time.
#pragma once

#include <chrono>

namespace llmgate::time {

using SteadyTime = std::chrono::steady_clock::time_point;
using SystemTime = std::chrono::system_clock::time_point;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual SteadyTime steadyNow() const = 0;
  virtual SystemTime systemNow() const = 0;
};

// The real clocks.
class RealClock final : public Clock {
 public:
  SteadyTime steadyNow() const override { return std::chrono::steady_clock::now(); }
  SystemTime systemNow() const override { return std::chrono::system_clock::now(); }
  static const RealClock& instance();
};

inline SteadyTime steadyNow() { return std::chrono::steady_clock::now(); }
inline SystemTime systemNow() { return std::chrono::system_clock::now(); }

}  // namespace llmgate::time
