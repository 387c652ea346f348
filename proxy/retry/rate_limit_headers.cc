#include "proxy/retry/rate_limit_headers.h"

#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <ctime>
#include <string>

namespace llmgate::proxy::retry {
namespace {

using config::Duration;
constexpr double kMaxHintMs = 24.0 * 3600 * 1000;  // anything longer is absurd

std::optional<Duration> fromMs(double ms) {
  if (!std::isfinite(ms) || ms < 0 || ms > kMaxHintMs) return std::nullopt;
  return Duration(static_cast<Duration::rep>(std::ceil(ms)));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool isPlainNumber(std::string_view s) {
  if (s.empty() || s.size() > 32) return false;
  bool dot = false;
  for (char c : s) {
    if (c == '.') {
      if (dot) return false;
      dot = true;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return s.front() != '.' && s.back() != '.';
}

std::optional<double> number(std::string_view s) {
  if (!isPlainNumber(s)) return std::nullopt;
  double value = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return value;
}

std::optional<Duration> untilTime(time::SystemTime when, time::SystemTime now) {
  if (when <= now) return std::nullopt;  // in the past: no hint
  return fromMs(std::chrono::duration<double, std::milli>(when - now).count());
}

// One header value; a repeated header means nothing reliable, so it is ignored.
std::optional<std::string_view> single(const boost::beast::http::fields& headers,
                                       std::string_view name) {
  auto range = headers.equal_range(name);
  if (range.first == range.second) return std::nullopt;
  if (std::next(range.first) != range.second) return std::nullopt;
  return trim(std::string_view(range.first->value()));
}

int monthIndex(std::string_view m) {
  static constexpr std::array<std::string_view, 12> kMonths = {
      "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i) {
    if (kMonths[i] == m) return i;
  }
  return -1;
}

bool digits(std::string_view s, int& out) {
  if (s.empty() || s.size() > 4) return false;
  out = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    out = out * 10 + (c - '0');
  }
  return true;
}

std::optional<time::SystemTime> fromUtc(int year, int month0, int day, int hour, int minute,
                                        int second) {
  if (year < 1970 || year > 9999 || month0 < 0 || month0 > 11 || day < 1 || day > 31 || hour > 23 ||
      minute > 59 || second > 60) {
    return std::nullopt;
  }
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month0;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  const std::time_t t = timegm(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return std::chrono::system_clock::from_time_t(t);
}

}  // namespace

std::optional<Duration> parseDeltaSeconds(std::string_view text) {
  const auto value = number(trim(text));
  if (!value) return std::nullopt;
  return fromMs(*value * 1000.0);
}

std::optional<Duration> parseGoDuration(std::string_view text) {
  // Sequence of <number><unit> with units h, m, s, ms, us/µs, ns: "1h2m3.5s", "12ms".
  text = trim(text);
  if (text.empty() || text.size() > 64) return std::nullopt;
  double total_ms = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t j = i;
    while (j < text.size() && (std::isdigit(static_cast<unsigned char>(text[j])) || text[j] == '.'))
      ++j;
    const auto value = number(text.substr(i, j - i));
    if (!value) return std::nullopt;
    std::size_t k = j;
    while (k < text.size() && std::isalpha(static_cast<unsigned char>(text[k]))) ++k;
    const std::string_view unit = text.substr(j, k - j);
    double scale = 0;
    if (unit == "h")
      scale = 3600e3;
    else if (unit == "m")
      scale = 60e3;
    else if (unit == "s")
      scale = 1e3;
    else if (unit == "ms")
      scale = 1;
    else if (unit == "us")
      scale = 1e-3;
    else if (unit == "ns")
      scale = 1e-6;
    else
      return std::nullopt;
    total_ms += *value * scale;
    i = k;
  }
  return fromMs(total_ms);
}

std::optional<time::SystemTime> parseHttpDate(std::string_view text) {
  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" (the only form senders may emit).
  text = trim(text);
  if (text.size() != 29 || text.substr(3, 2) != ", " || text.substr(25) != " GMT") {
    return std::nullopt;
  }
  int day = 0, year = 0, hour = 0, minute = 0, second = 0;
  if (!digits(text.substr(5, 2), day) || text[7] != ' ' || text[11] != ' ' ||
      !digits(text.substr(12, 4), year) || text[16] != ' ' || !digits(text.substr(17, 2), hour) ||
      text[19] != ':' || !digits(text.substr(20, 2), minute) || text[22] != ':' ||
      !digits(text.substr(23, 2), second)) {
    return std::nullopt;
  }
  return fromUtc(year, monthIndex(text.substr(8, 3)), day, hour, minute, second);
}

std::optional<time::SystemTime> parseRfc3339(std::string_view text) {
  // "2026-11-24T10:00:00Z", "2026-11-24T10:00:00.123+01:00"
  text = trim(text);
  if (text.size() < 20 || text.size() > 40) return std::nullopt;
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  if (!digits(text.substr(0, 4), year) || text[4] != '-' || !digits(text.substr(5, 2), month) ||
      text[7] != '-' || !digits(text.substr(8, 2), day) || (text[10] != 'T' && text[10] != 't') ||
      !digits(text.substr(11, 2), hour) || text[13] != ':' || !digits(text.substr(14, 2), minute) ||
      text[16] != ':' || !digits(text.substr(17, 2), second)) {
    return std::nullopt;
  }
  std::size_t pos = 19;
  double fraction_ms = 0;
  if (pos < text.size() && text[pos] == '.') {
    std::size_t end = pos + 1;
    while (end < text.size() && std::isdigit(static_cast<unsigned char>(text[end]))) ++end;
    if (end == pos + 1) return std::nullopt;
    fraction_ms = std::stod(std::string("0") + std::string(text.substr(pos, end - pos))) * 1000;
    pos = end;
  }
  int offset_minutes = 0;
  const std::string_view zone = text.substr(pos);
  if (zone == "Z" || zone == "z") {
    offset_minutes = 0;
  } else if (zone.size() == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':') {
    int oh = 0, om = 0;
    if (!digits(zone.substr(1, 2), oh) || !digits(zone.substr(4, 2), om) || oh > 23 || om > 59) {
      return std::nullopt;
    }
    offset_minutes = (oh * 60 + om) * (zone[0] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  auto base = fromUtc(year, month - 1, day, hour, minute, second);
  if (!base) return std::nullopt;
  return *base - std::chrono::minutes(offset_minutes) +
         std::chrono::milliseconds(static_cast<long long>(fraction_ms));
}

namespace {

// True when some field could carry a hint: one pass over the names, so an
// answer without any (the common case) skips the eight lookups below.
bool mayHaveHints(const boost::beast::http::fields& headers) {
  for (const auto& field : headers) {
    const std::string_view name(field.name_string());
    const auto starts = [&](std::string_view prefix) {
      return name.size() >= prefix.size() &&
             boost::beast::iequals(name.substr(0, prefix.size()), prefix);
    };
    if (starts("retry-after") || starts("x-ratelimit-") || starts("anthropic-ratelimit-")) {
      return true;
    }
  }
  return false;
}

}  // namespace

RateLimitHints parseRateLimitHeaders(const boost::beast::http::fields& headers,
                                     time::SystemTime now) {
  RateLimitHints hints;
  if (!mayHaveHints(headers)) return hints;
  if (auto ms = single(headers, "retry-after-ms")) {
    if (auto v = number(*ms)) hints.retry_after = fromMs(*v);
  }
  if (!hints.retry_after) {
    if (auto ra = single(headers, "retry-after")) {
      hints.retry_after = parseDeltaSeconds(*ra);
      if (!hints.retry_after) {
        if (auto when = parseHttpDate(*ra)) hints.retry_after = untilTime(*when, now);
      }
    }
  }
  // Proactive pacing: a quota at 0 with its reset.
  for (std::string_view kind : {"requests", "tokens"}) {
    const std::string remaining_name = std::string("x-ratelimit-remaining-") + std::string(kind);
    const std::string reset_name = std::string("x-ratelimit-reset-") + std::string(kind);
    auto remaining = single(headers, remaining_name);
    if (!remaining || *remaining != "0") continue;
    if (auto reset = single(headers, reset_name)) {
      auto d = parseGoDuration(*reset);
      if (!d) d = parseDeltaSeconds(*reset);
      if (d && (!hints.exhausted_for || *d > *hints.exhausted_for)) hints.exhausted_for = d;
    }
  }
  for (std::string_view kind : {"requests", "tokens", "input-tokens", "output-tokens"}) {
    const std::string remaining_name =
        std::string("anthropic-ratelimit-") + std::string(kind) + "-remaining";
    const std::string reset_name =
        std::string("anthropic-ratelimit-") + std::string(kind) + "-reset";
    auto reset = single(headers, reset_name);
    if (!reset) continue;
    auto when = parseRfc3339(*reset);
    if (!when) continue;
    auto until = untilTime(*when, now);
    auto remaining = single(headers, remaining_name);
    if (until && remaining && *remaining == "0" &&
        (!hints.exhausted_for || *until > *hints.exhausted_for)) {
      hints.exhausted_for = until;
    }
    // Anthropic's 429 carries the reset time rather than (or besides) Retry-After.
    if (until && !hints.retry_after && remaining && *remaining == "0") hints.retry_after = until;
  }
  return hints;
}

}  // namespace llmgate::proxy::retry
