// Human-friendly durations ("250ms", "3s", "5m", "1h", "1.5s") and sizes
// ("512", "64KiB", "4MiB", "1GiB", "10MB") as the config writes them.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/config/schema.h"

namespace llmgate::config {

absl::StatusOr<Duration> parseDuration(std::string_view text);
absl::StatusOr<std::uint64_t> parseSize(std::string_view text);

// The inverses, for /config and logs: the largest unit that is exact
// ("250ms", "1500ms", "3s", "5m", "1h"; "64KiB", "4MiB", "1000").
std::string formatDuration(Duration duration);
std::string formatSize(std::uint64_t bytes);

}  // namespace llmgate::config
