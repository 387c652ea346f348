// Envoy's retry budget, per provider and shared by all workers (atomics):
// retries in flight may not exceed max(min_retries, budget_percent of the
// requests in flight to that provider). Over budget, a request fails over or
// fails fast instead of adding load to a provider that is already failing
// (RELIABILITY R20, R21).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace llmgate::proxy::retry {

class RetryBudget {
 public:
  static constexpr std::int64_t kMinRetries = 3;

  // RAII for one attempt in flight to the provider.
  class ActiveAttempt {
   public:
    explicit ActiveAttempt(RetryBudget& budget) : budget_(&budget) { ++budget_->active_; }
    ~ActiveAttempt() {
      if (budget_ != nullptr) --budget_->active_;
    }
    ActiveAttempt(const ActiveAttempt&) = delete;
    ActiveAttempt& operator=(const ActiveAttempt&) = delete;

   private:
    RetryBudget* budget_;
  };

  // RAII for one retry (backoff + its attempt); empty when refused.
  class RetryToken {
   public:
    RetryToken() = default;
    explicit RetryToken(RetryBudget* budget) : budget_(budget) {}
    RetryToken(RetryToken&& other) noexcept : budget_(other.budget_) { other.budget_ = nullptr; }
    RetryToken& operator=(RetryToken&& other) noexcept {
      std::swap(budget_, other.budget_);
      return *this;
    }
    ~RetryToken() {
      if (budget_ != nullptr) --budget_->retries_;
    }
    explicit operator bool() const { return budget_ != nullptr; }

   private:
    RetryBudget* budget_ = nullptr;
  };

  // A retry token when the budget allows one more retry in flight.
  RetryToken tryRetry(double budget_percent) {
    const std::int64_t active = active_.load(std::memory_order_relaxed);
    const auto allowed = std::max<std::int64_t>(
        kMinRetries,
        static_cast<std::int64_t>(static_cast<double>(active) * budget_percent / 100.0));
    std::int64_t current = retries_.load(std::memory_order_relaxed);
    while (current < allowed) {
      if (retries_.compare_exchange_weak(current, current + 1, std::memory_order_relaxed)) {
        return RetryToken(this);
      }
    }
    return RetryToken();
  }

  std::int64_t activeAttempts() const { return active_.load(std::memory_order_relaxed); }
  std::int64_t activeRetries() const { return retries_.load(std::memory_order_relaxed); }

 private:
  std::atomic<std::int64_t> active_{0};
  std::atomic<std::int64_t> retries_{0};
};

}  // namespace llmgate::proxy::retry
