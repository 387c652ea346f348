// Deterministic answers: the same messages always produce the same words, so
// tests (and llmgate's cache) can compare answers byte for byte.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llmgate::fakellm {

inline constexpr uint64_t kFnvOffset = 14695981039346656037ull;
inline constexpr uint64_t kFnvPrime = 1099511628211ull;

// 64-bit FNV-1a; pass a previous result as `h` to hash a sequence of pieces.
constexpr uint64_t fnv1a(std::string_view s, uint64_t h = kFnvOffset) {
  for (const char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= kFnvPrime;
  }
  return h;
}

// SplitMix64: a cheap, well-mixed step used to turn one hash into many picks.
constexpr uint64_t splitMix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// The fixed vocabulary answers are drawn from (plain ASCII, no escaping needed).
const std::vector<std::string_view>& answerVocabulary();

// `count` words picked from the vocabulary by a generator seeded with `seed`.
// One word is one completion token.
std::vector<std::string_view> answerWords(uint64_t seed, int count);

// The words joined by single spaces: the non-streamed `content`. A stream sends
// word 0 as is and every later word with a leading space, so the chunks
// concatenate to exactly this text.
std::string joinWords(const std::vector<std::string_view>& words);

// Unicode scalar values in UTF-8 `text` (continuation bytes are not counted).
int64_t countCodePoints(std::string_view text);

// fakellm's token estimate for one message: ceil(code points / 4) + 4.
int64_t messageTokens(std::string_view content);

}  // namespace llmgate::fakellm
