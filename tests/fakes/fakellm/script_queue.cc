#include "tests/fakes/fakellm/script_queue.h"

namespace llmgate::fakellm {

size_t ScriptQueue::push(std::vector<Behaviour> behaviours) {
  std::lock_guard lock(mu_);
  for (auto& b : behaviours) queue_.push_back(std::move(b));
  size_.store(queue_.size(), std::memory_order_release);
  return queue_.size();
}

std::optional<Behaviour> ScriptQueue::pop() {
  if (size() == 0) return std::nullopt;
  std::lock_guard lock(mu_);
  if (queue_.empty()) return std::nullopt;
  Behaviour b = std::move(queue_.front());
  queue_.pop_front();
  size_.store(queue_.size(), std::memory_order_release);
  return b;
}

void ScriptQueue::clear() {
  std::lock_guard lock(mu_);
  queue_.clear();
  size_.store(0, std::memory_order_release);
}

}  // namespace llmgate::fakellm
