#include "control/http/decision_counter.h"

namespace llmgate::control::http {

void DecisionCounter::push(const service::v1::Decision& decision) {
  const int kind = static_cast<int>(decision.kind());
  if (kind < 0 || kind >= kKinds) return;
  counts_[static_cast<std::size_t>(kind)].fetch_add(1, std::memory_order_relaxed);
}

std::uint64_t DecisionCounter::get(int kind) const {
  if (kind < 0 || kind >= kKinds) return 0;
  return counts_[static_cast<std::size_t>(kind)].load(std::memory_order_relaxed);
}

}  // namespace llmgate::control::http
