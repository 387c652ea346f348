// Minimal leveled logging for operational messages (not the access log).
// One line per call, written with a single write(2) so lines from several
// workers never interleave. Never pass prompts or secrets here.
#pragma once

#include <string_view>

#include "common/text/str_cat.h"

namespace llmgate::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void setLevel(Level level);
bool parseLevel(std::string_view text, Level* out);
bool enabled(Level level);
void write(Level level, std::string_view message);

template <typename... Args>
void debug(const Args&... args) {
  if (enabled(Level::kDebug)) write(Level::kDebug, strCat(args...));
}
template <typename... Args>
void info(const Args&... args) {
  if (enabled(Level::kInfo)) write(Level::kInfo, strCat(args...));
}
template <typename... Args>
void warn(const Args&... args) {
  if (enabled(Level::kWarn)) write(Level::kWarn, strCat(args...));
}
template <typename... Args>
void error(const Args&... args) {
  if (enabled(Level::kError)) write(Level::kError, strCat(args...));
}

}  // namespace llmgate::log
