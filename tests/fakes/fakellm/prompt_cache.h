// DeepSeek's context cache, emulated: a request's cached tokens are those of
// the longest message prefix seen before, rounded down to 64 tokens
// (PROVIDERS.md §1.4, the granularity is an assumption).
#pragma once

#include <cstdint>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "tests/fakes/fakellm/chat_request.h"

namespace llmgate::fakellm {

class PromptCache {
 public:
  static constexpr int64_t kGranularity = 64;
  static constexpr size_t kMaxEntries = 1 << 20;  // then it forgets everything, like an eviction

  // The cache-hit tokens of a request with these cumulative prefixes; then
  // remembers every prefix for later requests.
  int64_t lookupAndRemember(const std::vector<PrefixKey>& prefixes);
  void clear();

 private:
  std::mutex mu_;
  std::unordered_set<uint64_t> seen_;
};

}  // namespace llmgate::fakellm
