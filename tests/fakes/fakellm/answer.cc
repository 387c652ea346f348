#include "tests/fakes/fakellm/answer.h"

namespace llmgate::fakellm {

const std::vector<std::string_view>& answerVocabulary() {
  static const std::vector<std::string_view> kWords = {
      "the",     "model",   "answer",  "is",     "ready",   "and",     "it",       "looks",
      "good",    "with",    "a",       "small",  "fast",    "reply",   "from",     "our",
      "service", "we",      "can",     "help",   "you",     "today",   "please",   "note",
      "that",    "this",    "data",    "stream", "token",   "request", "response", "cache",
      "route",   "gateway", "latency", "budget", "retry",   "order",   "status",   "update",
      "system",  "check",   "result",  "value",  "simple",  "clear",   "quick",    "brown",
      "fox",     "jumps",   "over",    "lazy",   "dog",     "time",    "next",     "step",
      "first",   "second",  "third",   "final",  "summary", "detail",  "example",  "done",
  };
  return kWords;
}

std::vector<std::string_view> answerWords(uint64_t seed, int count) {
  const auto& vocab = answerVocabulary();
  std::vector<std::string_view> words;
  if (count <= 0) return words;
  words.reserve(static_cast<size_t>(count));
  uint64_t state = seed;
  for (int i = 0; i < count; ++i) {
    words.push_back(vocab[splitMix64(state) % vocab.size()]);
  }
  return words;
}

std::string joinWords(const std::vector<std::string_view>& words) {
  std::string text;
  for (size_t i = 0; i < words.size(); ++i) {
    if (i > 0) text.push_back(' ');
    text.append(words[i]);
  }
  return text;
}

int64_t countCodePoints(std::string_view text) {
  int64_t n = 0;
  for (const char c : text) {
    if ((static_cast<unsigned char>(c) & 0xc0) != 0x80) ++n;
  }
  return n;
}

int64_t messageTokens(std::string_view content) { return (countCodePoints(content) + 3) / 4 + 4; }

}  // namespace llmgate::fakellm
