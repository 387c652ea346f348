#include "common/config/units.h"

#include <array>
#include <cctype>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/numeric/int128.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace llmgate::config {
namespace {

// Debian's Abseil has its own absl::string_view, distinct from std::string_view.
absl::string_view av(std::string_view text) { return absl::string_view(text.data(), text.size()); }
template <typename T>
const T& alphaNum(const T& value) {
  return value;
}
absl::string_view alphaNum(std::string_view value) { return av(value); }
template <typename... Parts>
std::string cat(const Parts&... parts) {
  return absl::StrCat(alphaNum(parts)...);
}

// Longer durations would overflow a nanosecond clock once added to "now".
constexpr std::int64_t kMaxDurationMs = 87600LL * 3600 * 1000;  // 87600h, ten years

struct Unit {
  std::string_view name;
  std::uint64_t factor;
};

constexpr std::array<Unit, 5> kDurationUnits = {{
    {"ms", 1},
    {"s", 1000},
    {"m", 60ull * 1000},
    {"h", 3600ull * 1000},
    {"d", 24ull * 3600 * 1000},
}};

constexpr std::uint64_t kKi = 1024;
constexpr std::uint64_t kK = 1000;
constexpr std::array<Unit, 17> kSizeUnits = {{
    {"b", 1},
    {"k", kK},
    {"kb", kK},
    {"m", kK* kK},
    {"mb", kK* kK},
    {"g", kK* kK* kK},
    {"gb", kK* kK* kK},
    {"t", kK* kK* kK* kK},
    {"tb", kK* kK* kK* kK},
    {"ki", kKi},
    {"kib", kKi},
    {"mi", kKi* kKi},
    {"mib", kKi* kKi},
    {"gi", kKi* kKi* kKi},
    {"gib", kKi* kKi* kKi},
    {"ti", kKi* kKi* kKi* kKi},
    {"tib", kKi* kKi* kKi* kKi},
}};

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// "12" or "1.5" at the front of `text`: integer part and exact fraction.
struct Decimal {
  std::uint64_t whole = 0;
  std::uint64_t fraction = 0;        // the digits after '.', as an integer
  std::uint64_t fraction_scale = 1;  // 10^(number of digits after '.')
};

absl::StatusOr<Decimal> takeDecimal(std::string_view& text) {
  Decimal out;
  if (text.empty() || !isDigit(text.front())) {
    return absl::InvalidArgumentError("expected a number");
  }
  while (!text.empty() && isDigit(text.front())) {
    const std::uint64_t digit = static_cast<std::uint64_t>(text.front() - '0');
    if (out.whole > (UINT64_MAX - digit) / 10) return absl::OutOfRangeError("out of range");
    out.whole = out.whole * 10 + digit;
    text.remove_prefix(1);
  }
  if (!text.empty() && text.front() == '.') {
    text.remove_prefix(1);
    if (text.empty() || !isDigit(text.front())) {
      return absl::InvalidArgumentError("expected digits after '.'");
    }
    int digits = 0;
    while (!text.empty() && isDigit(text.front())) {
      if (++digits > 18) return absl::InvalidArgumentError("too many digits after '.'");
      out.fraction = out.fraction * 10 + static_cast<std::uint64_t>(text.front() - '0');
      out.fraction_scale *= 10;
      text.remove_prefix(1);
    }
  }
  return out;
}

// value * factor, exactly; fails when the result is not a whole number.
absl::StatusOr<absl::uint128> scale(const Decimal& value, std::uint64_t factor,
                                    std::string_view whole_unit) {
  const absl::uint128 fraction = absl::uint128(value.fraction) * factor;
  if (fraction % value.fraction_scale != 0) {
    return absl::InvalidArgumentError(cat("not a whole number of ", whole_unit));
  }
  return absl::uint128(value.whole) * factor + fraction / value.fraction_scale;
}

std::string_view takeUnit(std::string_view& text) {
  std::size_t n = 0;
  while (n < text.size() && isLetter(text[n])) ++n;
  const std::string_view unit = text.substr(0, n);
  text.remove_prefix(n);
  return unit;
}

template <std::size_t N>
const Unit* findUnit(const std::array<Unit, N>& units, std::string_view name, bool ignore_case) {
  for (const Unit& unit : units) {
    if (ignore_case ? absl::EqualsIgnoreCase(av(unit.name), av(name)) : unit.name == name)
      return &unit;
  }
  return nullptr;
}

absl::Status prefixed(std::string_view text, const absl::Status& status) {
  return absl::Status(status.code(), cat("\"", text, "\": ", status.message()));
}

}  // namespace

absl::StatusOr<Duration> parseDuration(std::string_view text) {
  const std::string_view original = text;
  if (text.empty()) return absl::InvalidArgumentError("empty duration");
  if (text.front() == '-') {
    return prefixed(original, absl::InvalidArgumentError("a duration cannot be negative"));
  }
  if (text == "0") return Duration::zero();
  // One or more <number><unit> pairs: "250ms", "1.5s", "1h30m".
  absl::uint128 total = 0;
  while (!text.empty()) {
    absl::StatusOr<Decimal> number = takeDecimal(text);
    if (!number.ok()) return prefixed(original, number.status());
    const std::string_view unit_name = takeUnit(text);
    if (unit_name.empty() && !text.empty()) {
      return prefixed(original, absl::InvalidArgumentError(
                                    "unexpected characters (write durations without spaces, "
                                    "e.g. 250ms or 1h30m)"));
    }
    if (unit_name.empty()) {
      return prefixed(original,
                      absl::InvalidArgumentError("a unit is required (ms, s, m, h or d)"));
    }
    const Unit* unit = findUnit(kDurationUnits, unit_name, /*ignore_case=*/false);
    if (unit == nullptr) {
      return prefixed(original, absl::InvalidArgumentError(cat("unknown unit \"", unit_name,
                                                               "\" (use ms, s, m, h or d)")));
    }
    absl::StatusOr<absl::uint128> ms = scale(*number, unit->factor, "milliseconds");
    if (!ms.ok()) return prefixed(original, ms.status());
    total += *ms;
    if (total > absl::uint128(kMaxDurationMs)) {
      return prefixed(original, absl::OutOfRangeError("longer than 87600h"));
    }
  }
  return Duration(static_cast<std::int64_t>(absl::Uint128Low64(total)));
}

absl::StatusOr<std::uint64_t> parseSize(std::string_view text) {
  const std::string_view original = text;
  if (text.empty()) return absl::InvalidArgumentError("empty size");
  if (text.front() == '-') {
    return prefixed(original, absl::InvalidArgumentError("a size cannot be negative"));
  }
  absl::StatusOr<Decimal> number = takeDecimal(text);
  if (!number.ok()) return prefixed(original, number.status());
  const std::string_view unit_name = takeUnit(text);
  if (!text.empty()) {
    return prefixed(original, absl::InvalidArgumentError(
                                  "unexpected characters (write sizes without spaces, e.g. 4MiB)"));
  }
  std::uint64_t factor = 1;
  if (!unit_name.empty()) {
    const Unit* unit = findUnit(kSizeUnits, unit_name, /*ignore_case=*/true);
    if (unit == nullptr) {
      return prefixed(original, absl::InvalidArgumentError(
                                    cat("unknown unit \"", unit_name,
                                        "\" (use B, KiB, MiB, GiB, TiB or KB, MB, GB, TB)")));
    }
    factor = unit->factor;
  }
  absl::StatusOr<absl::uint128> bytes = scale(*number, factor, "bytes");
  if (!bytes.ok()) return prefixed(original, bytes.status());
  if (absl::Uint128High64(*bytes) != 0) {
    return prefixed(original, absl::OutOfRangeError("too large"));
  }
  return absl::Uint128Low64(*bytes);
}

std::string formatDuration(Duration duration) {
  const std::int64_t ms = duration.count();
  if (ms == 0) return "0s";
  if (ms < 0) return cat(ms, "ms");
  for (auto it = kDurationUnits.rbegin(); it != kDurationUnits.rend(); ++it) {
    // Days read worse than hours in configs ("48h"), so stop at hours.
    if (it->name == "d") continue;
    const auto factor = static_cast<std::int64_t>(it->factor);
    if (ms % factor == 0) return cat(ms / factor, it->name);
  }
  return cat(ms, "ms");
}

std::string formatSize(std::uint64_t bytes) {
  constexpr std::array<std::pair<std::uint64_t, std::string_view>, 4> kBinary = {{
      {kKi * kKi * kKi * kKi, "TiB"},
      {kKi * kKi * kKi, "GiB"},
      {kKi * kKi, "MiB"},
      {kKi, "KiB"},
  }};
  if (bytes != 0) {
    for (const auto& [factor, name] : kBinary) {
      if (bytes % factor == 0) return cat(bytes / factor, name);
    }
  }
  return cat(bytes);
}

}  // namespace llmgate::config
