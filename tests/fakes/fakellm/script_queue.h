// Behaviours queued by POST /_fakellm/script, consumed one per chat request in
// order, shared by all worker threads.
#pragma once

#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "tests/fakes/fakellm/behaviour.h"

namespace llmgate::fakellm {

class ScriptQueue {
 public:
  // Appends; returns the queue length afterwards.
  size_t push(std::vector<Behaviour> behaviours);
  std::optional<Behaviour> pop();
  void clear();
  size_t size() const { return size_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mu_;
  std::deque<Behaviour> queue_;
  std::atomic<size_t> size_{0};  // lets pop() skip the lock on the usual empty queue
};

}  // namespace llmgate::fakellm
