// Counts of the webhook's answers by outcome, for /metrics. Lock-free.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

#include "control/webhook/admission_review.h"

namespace llmgate::control::webhook {

inline constexpr std::array<AdmissionOutcome, 4> kAllOutcomes = {
    AdmissionOutcome::kInjected, AdmissionOutcome::kSkipped, AdmissionOutcome::kAlreadyInjected,
    AdmissionOutcome::kMalformed};

class WebhookStats {
 public:
  void count(AdmissionOutcome outcome) {
    counts_[static_cast<std::size_t>(outcome)].fetch_add(1, std::memory_order_relaxed);
  }
  std::uint64_t get(AdmissionOutcome outcome) const {
    return counts_[static_cast<std::size_t>(outcome)].load(std::memory_order_relaxed);
  }
  // Requests refused before a review: wrong path or method.
  void countRefused() { refused_.fetch_add(1, std::memory_order_relaxed); }
  std::uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  std::array<std::atomic<std::uint64_t>, kAllOutcomes.size()> counts_{};
  std::atomic<std::uint64_t> refused_{0};
};

}  // namespace llmgate::control::webhook
