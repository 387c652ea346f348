// Pieces shared by the random-request generators of the differential tests.
#pragma once

#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace llmgate::proxy::api::testing {

// `items` between `open` and `close`, separated by commas: a JSON array or
// object from its members' texts.
inline std::string joinedJson(std::string_view open, const std::vector<std::string>& items,
                              std::string_view close) {
  std::string out(open);
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    out += items[i];
  }
  out += close;
  return out;
}

// Uniform in [0, n).
inline int pickBelow(std::mt19937& rng, std::size_t n) {
  return std::uniform_int_distribution<int>(0, static_cast<int>(n) - 1)(rng);
}

}  // namespace llmgate::proxy::api::testing
