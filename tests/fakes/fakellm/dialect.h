// The wire dialects fakellm speaks and the URL paths that select them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace llmgate::fakellm {

// SplitMix64 as a UniformRandomBitGenerator: ids and jitter need speed, not
// cryptographic quality (std::mt19937_64 showed up in profiles).
class Rng {
 public:
  using result_type = uint64_t;
  explicit Rng(uint64_t seed = 0) : state_(seed) {}
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return UINT64_MAX; }
  result_type operator()() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }

 private:
  uint64_t state_;
};

enum class Dialect { kOpenAi, kDeepSeek, kDashScope, kMistral, kAnthropic };

enum class RouteKind {
  kChat,
  kEmbeddings,
  kModels,
  kDeepSeekBalance,
  kControlScript,
  kControlStats,
  kControlReset,
  kControlHealth,
  kNotFound,
};

struct Route {
  RouteKind kind = RouteKind::kNotFound;
  Dialect dialect = Dialect::kOpenAi;

  bool isControl() const {
    return kind == RouteKind::kControlScript || kind == RouteKind::kControlStats ||
           kind == RouteKind::kControlReset || kind == RouteKind::kControlHealth;
  }
};

// Maps a request target (a query string is ignored) to its route. Unknown paths
// are kNotFound with the dialect their prefix suggests, for the 404 body.
Route matchRoute(std::string_view target);

std::string_view dialectName(Dialect dialect);

// Response header that carries the provider's request id (`x-request-id`,
// `x-ds-trace-id`, `request-id`, ...).
std::string_view requestIdHeader(Dialect dialect);

// A fresh value for requestIdHeader(), in the provider's format.
std::string newRequestId(Dialect dialect, Rng& rng);

// A fresh completion id: `chatcmpl-…` (OpenAI), a bare UUID (DeepSeek),
// `chatcmpl-<uuid>` (DashScope), 32 hex digits (Mistral), `msg_01…` (Anthropic).
std::string newCompletionId(Dialect dialect, Rng& rng);

// A fresh tool-call id: `call_…` (OpenAI, DashScope), `call_0_<uuid>`
// (DeepSeek), 9 alphanumerics (Mistral insists), `toolu_01…` (Anthropic).
std::string newToolCallId(Dialect dialect, Rng& rng);

// A version-4-shaped UUID in lower-case hex.
std::string newUuid(Rng& rng);

}  // namespace llmgate::fakellm
