// Script-aware prompt-token estimate with per-model calibration.
//
// Before a request is sent its prompt tokens are estimated from the text:
// each Unicode scalar counts a fraction of a token according to its script
// (../shared/PROVIDERS.md §6.4: DeepSeek publishes ~0.3 token per English
// character and ~0.6 per Chinese character; the measured table there gives
// the rest). Upstream `usage.prompt_tokens` then calibrates a ratio per model
// (and per dominant script), so estimates converge on each provider's real
// tokenizer. Bill and enforce budgets from `usage`, never from an estimate.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "boost/json/object.hpp"
#include "common/config/schema.h"
#include "proxy/api/chat_request.h"

namespace llmgate::proxy::routing {

// Writing systems that tokenizers treat differently. kCode covers ASCII
// digits and punctuation (code, JSON, markup); kSymbol emoji and other
// pictographs; kOther scripts without a figure of their own.
enum class Script : std::uint8_t {
  kLatin,
  kCjk,  // Han, Hiragana, Katakana, Hangul, CJK punctuation
  kCyrillic,
  kArabic,
  kDevanagari,
  kThai,
  kCode,
  kWhitespace,
  kSymbol,
  kOther,
};
inline constexpr std::size_t kScriptCount = 10;

const char* toString(Script script);

// The script of one Unicode scalar value.
Script scriptOf(char32_t c);

// Unicode scalars per script; invalid UTF-8 bytes count as kOther.
struct ScriptCounts {
  std::array<std::uint64_t, kScriptCount> chars{};
  // Runs of ASCII are counted 16 bytes at a time with SSE2 where available.
  void add(std::string_view utf8);
  // The same counts with a byte-at-a-time loop: add() on targets without
  // SSE2, and the reference its tests compare it with.
  void addScalar(std::string_view utf8);
  std::uint64_t total() const;
  // The script holding at least 60% of the non-whitespace characters, if any.
  std::optional<Script> dominant() const;
};

// Uncalibrated tokens per character for `script` (the published and measured
// figures; see docs/ROUTING.md for each number's source).
double tokensPerChar(Script script);

// Uncalibrated tokens for some text.
double estimateTextTokens(std::string_view utf8);

// An uncalibrated estimate of a chat request's prompt, with the scripts seen.
struct PromptEstimate {
  double tokens = 0;  // text tokens + chat template overhead
  ScriptCounts scripts;
};
PromptEstimate estimatePrompt(const boost::json::object& chat_body);
// The same from what the validation pass gathered (the DOM only when the
// request has tools, tool calls or a JSON schema, which count serialized).
PromptEstimate estimatePrompt(const api::ChatRequest& request);

class TokenEstimator {
 public:
  // `alpha`: weight of each new observation in the exponentially weighted ratio.
  explicit TokenEstimator(double alpha = 0.1);
  ~TokenEstimator();
  TokenEstimator(const TokenEstimator&) = delete;
  TokenEstimator& operator=(const TokenEstimator&) = delete;

  // Calibrated prompt tokens of `chat_body` for `model` (a configured model name).
  std::uint64_t estimate(std::string_view model, const boost::json::object& chat_body) const;

  // Calibrates `model` from one answer: `estimated` is the UNCALIBRATED estimate
  // (PromptEstimate::tokens) of the prompt whose `usage.prompt_tokens` was
  // `actual`. With `dominant` set, that script's own ratio is updated too.
  // Lock-free; safe from any thread.
  void observe(std::string_view model, double estimated, std::uint64_t actual,
               std::optional<Script> dominant = std::nullopt);

  // The calibrated ratio actual / estimated for `model` (1 until observed),
  // clamped to [0.5, 2]. With `script`, that script's ratio when it has been
  // observed, else the model's.
  double ratio(std::string_view model, std::optional<Script> script = std::nullopt) const;

  // Effective input price, in USD per 1,000 characters of `script`, of `model`
  // given its configured price: the seed's "some providers tokenize non-Latin
  // scripts badly" as a number (exported as a metric by the caller).
  double usdPer1kChars(const config::ModelConfig& model, Script script) const;

  // The calibrated estimate of the latest observed prompt of `model` divided
  // by its actual usage.prompt_tokens (1 = exact; llmgate_token_estimate_accuracy),
  // measured before that observation updated the ratio. nullopt until observed.
  std::optional<double> lastAccuracy(std::string_view model) const;

  // Observed input price: `chars` prompt characters whose dominant script is
  // `script` cost `input_usd` (the prompt side of `usage` at the model's
  // prices). Lock-free; safe from any thread.
  void observeCost(std::string_view model, Script script, std::uint64_t chars, double input_usd);

  // USD per 1,000 prompt characters actually paid on `model` for prompts
  // dominated by `script` (llmgate_usd_per_1k_chars); nullopt until observed.
  std::optional<double> observedUsdPer1kChars(std::string_view model, Script script) const;

  // Models tracked at most; observations for further models are ignored.
  static constexpr std::size_t kMaxModels = 256;

 private:
  struct Slot;
  const Slot* find(std::string_view model) const;
  Slot* findOrClaim(std::string_view model);

  double alpha_;
  std::unique_ptr<Slot[]> slots_;
};

}  // namespace llmgate::proxy::routing
