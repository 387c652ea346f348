// Reconnect delays for the control-plane stream (R30, R33): exponential with
// full jitter (AWS architecture blog, "Exponential Backoff And Jitter"):
// attempt n waits uniform(0, min(max, initial * 2^n)), so a fleet of sidecars
// cut off together does not reconnect in lock step.
#pragma once

#include <chrono>
#include <functional>

namespace llmgate::proxy::control {

class Backoff {
 public:
  using Duration = std::chrono::milliseconds;
  // Returns a number in [0, 1); injectable so tests see the bounds.
  using Uniform = std::function<double()>;

  Backoff(Duration initial, Duration max, Uniform uniform);

  // The delay before the next attempt; each call doubles the ceiling up to max.
  Duration next();
  // The ceiling the next call draws under (for logs and tests).
  Duration ceiling() const { return ceiling_; }
  // After a stream that worked: start again from `initial`.
  void reset() { ceiling_ = initial_; }

 private:
  Duration initial_;
  Duration max_;
  Duration ceiling_;
  Uniform uniform_;
};

// A Uniform backed by a per-object std::mt19937_64 seeded from random_device.
Backoff::Uniform randomUniform();

}  // namespace llmgate::proxy::control
