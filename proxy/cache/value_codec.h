// How a CachedResponse is stored outside the process (L2): a versioned,
// checksummed frame. Anything that does not decode exactly is a miss, never
// served (a truncated write, another program's key, an older format).
//
//   "LG1" <8 hex crc32 of the rest> <header line> <model> <provider> <body>
//   header line: "<model len> <provider len> <prompt> <cached> <completion> <created>\n"
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "proxy/cache/cache.h"

namespace llmgate::proxy::cache {

inline constexpr std::string_view kValueFormat = "LG1";

std::string encodeCachedResponse(const CachedResponse& response);

// nullopt when the frame's version, checksum, header or lengths are wrong.
std::optional<CachedResponse> decodeCachedResponse(std::string_view frame);

}  // namespace llmgate::proxy::cache
