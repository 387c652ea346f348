// Human-friendly durations ("250ms", "3s", "5m", "1h", "1.5s") and sizes
// ("512", "64KiB", "4MiB", "1GiB", "10MB") as the config writes them.
#pragma once

#include <cstdint>
#include <string_view>

#include "absl/status/statusor.h"
#include "common/config/schema.h"

namespace llmgate::config {

absl::StatusOr<Duration> parseDuration(std::string_view text);
absl::StatusOr<std::uint64_t> parseSize(std::string_view text);

}  // namespace llmgate::config
