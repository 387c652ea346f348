// strCat(a, b, ...): concatenation of strings, string_views, chars and numbers.
// Debian's Abseil is built with its own absl::string_view, so absl::StrCat
// does not take std::string_view; this small helper does.
#pragma once

#include <charconv>
#include <concepts>
#include <string>
#include <string_view>
#include <type_traits>

namespace llmgate {

namespace str_cat_internal {

inline void append(std::string& out, std::string_view s) { out.append(s); }
inline void append(std::string& out, const char* s) { out.append(s); }
inline void append(std::string& out, const std::string& s) { out.append(s); }
inline void append(std::string& out, char c) { out.push_back(c); }
inline void append(std::string& out, bool b) { out.append(b ? "true" : "false"); }

template <typename T>
requires(std::is_arithmetic_v<T> && !std::is_same_v<T, bool> &&
         !std::is_same_v<T, char>) void append(std::string& out, T value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, ec == std::errc() ? end : buf);
}

}  // namespace str_cat_internal

template <typename... Args>
std::string strCat(const Args&... args) {
  std::string out;
  (str_cat_internal::append(out, args), ...);
  return out;
}

template <typename... Args>
void strAppend(std::string& out, const Args&... args) {
  (str_cat_internal::append(out, args), ...);
}

}  // namespace llmgate
