// JSON parsing that refuses what Boost.JSON's default parser lets through:
// duplicate object keys (which one would the upstream see?) and excessive
// nesting. NaN/Infinity and trailing data are already refused by Boost.JSON.
#pragma once

#include <string>
#include <string_view>

#include "boost/container/small_vector.hpp"
#include "boost/json/storage_ptr.hpp"
#include "boost/json/value.hpp"

namespace llmgate::json {

struct StrictParseResult {
  bool ok = false;
  boost::json::value value;
  std::string error;  // why it failed, e.g. "duplicate key \"model\"", "syntax error at offset 17"
  // When the top level is an object: those of its keys written without
  // escapes, as views into the parsed text (in order). Where a key is in the
  // text, without a second scan of it.
  boost::container::small_vector<std::string_view, 16> top_level_keys;
};

// The value is allocated from `storage` (e.g. a per-request arena).
StrictParseResult parseStrict(std::string_view text, int max_depth = 64,
                              boost::json::storage_ptr storage = {});

}  // namespace llmgate::json
