// Counts the control plane's decisions by kind, for /metrics: a
// DecisionWatcher registered with the Controller for the process lifetime.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "control/service/controller.h"

namespace llmgate::control::http {

class DecisionCounter final : public service::DecisionWatcher {
 public:
  static constexpr int kKinds = 9;  // Decision.Kind values 0..8

  void push(const service::v1::Decision& decision) override;
  std::uint64_t get(int kind) const;

 private:
  std::array<std::atomic<std::uint64_t>, kKinds> counts_{};
};

}  // namespace llmgate::control::http
