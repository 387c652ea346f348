#include "tests/fakes/fakellm/prompt_cache.h"

namespace llmgate::fakellm {

int64_t PromptCache::lookupAndRemember(const std::vector<PrefixKey>& prefixes) {
  std::lock_guard lock(mu_);
  int64_t hit = 0;
  for (auto it = prefixes.rbegin(); it != prefixes.rend(); ++it) {
    if (seen_.contains(it->hash)) {
      hit = it->tokens;
      break;
    }
  }
  if (seen_.size() + prefixes.size() > kMaxEntries) seen_.clear();
  for (const auto& p : prefixes) seen_.insert(p.hash);
  return hit / kGranularity * kGranularity;
}

void PromptCache::clear() {
  std::lock_guard lock(mu_);
  seen_.clear();
}

}  // namespace llmgate::fakellm
