#include "common/config/k8s_quantity.h"

#include <array>
#include <cmath>
#include <cstdlib>
#include <string>
#include <utility>

namespace llmgate::config {
namespace {

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Length of the leading "digits[.digits]" or ".digits" of `text`; 0 if none.
std::size_t numberLength(std::string_view text) {
  std::size_t i = 0;
  std::size_t digits = 0;
  while (i < text.size() && isDigit(text[i])) ++i, ++digits;
  if (i < text.size() && text[i] == '.') {
    ++i;
    while (i < text.size() && isDigit(text[i])) ++i, ++digits;
  }
  return digits == 0 ? 0 : i;
}

std::optional<double> suffixFactor(std::string_view suffix) {
  static constexpr std::array<std::pair<std::string_view, double>, 14> kSuffixes = {{
      {"", 1.0},
      {"m", 1e-3},
      {"k", 1e3},
      {"M", 1e6},
      {"G", 1e9},
      {"T", 1e12},
      {"P", 1e15},
      {"E", 1e18},
      {"Ki", 1024.0},
      {"Mi", 1048576.0},
      {"Gi", 1073741824.0},
      {"Ti", 1099511627776.0},
      {"Pi", 1125899906842624.0},
      {"Ei", 1152921504606846976.0},
  }};
  for (const auto& [name, factor] : kSuffixes) {
    if (name == suffix) return factor;
  }
  // Exponent: e or E, an optional sign, digits.
  if (suffix.size() >= 2 && (suffix[0] == 'e' || suffix[0] == 'E')) {
    std::string_view exponent = suffix.substr(1);
    if (exponent[0] == '+' || exponent[0] == '-') exponent.remove_prefix(1);
    if (exponent.empty() || exponent.size() > 3) return std::nullopt;
    for (char c : exponent) {
      if (!isDigit(c)) return std::nullopt;
    }
    return std::pow(10.0, std::atof(std::string(suffix.substr(1)).c_str()));
  }
  return std::nullopt;
}

}  // namespace

std::optional<double> parseK8sQuantity(std::string_view text) {
  if (text.empty() || text.size() > 64) return std::nullopt;
  if (text[0] == '+') text.remove_prefix(1);
  const std::size_t length = numberLength(text);
  if (length == 0) return std::nullopt;
  const std::optional<double> factor = suffixFactor(text.substr(length));
  if (!factor) return std::nullopt;
  const double value = std::atof(std::string(text.substr(0, length)).c_str()) * *factor;
  if (!std::isfinite(value)) return std::nullopt;
  return value;
}

}  // namespace llmgate::config
