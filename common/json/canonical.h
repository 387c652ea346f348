// Canonical JSON: one spelling per JSON value, so that two documents that
// mean the same thing serialize to the same bytes (the cache key hashes it).
//
//  - object keys sorted by their UTF-8 bytes, no whitespace anywhere;
//  - numbers by value: 1, 1.0 and 1e0 are all "1"; -0 is "0"; integers kept
//    exact over the whole int64/uint64 range (no detour through double);
//    other doubles in the shortest form that round-trips (std::to_chars);
//  - strings re-escaped: only '"', '\\' and control characters are escaped
//    (\b \f \n \r \t, else \u00XX lower-case hex); everything else is raw UTF-8.
#pragma once

#include <string>

#include "boost/json/value.hpp"

namespace llmgate::json {

std::string canonicalJson(const boost::json::value& value);

// Appends the canonical form of `value` to `out` (no allocation beyond `out`'s growth
// for documents whose objects have at most 32 keys).
void appendCanonicalJson(std::string& out, const boost::json::value& value);

// Appends a JSON string literal with canonical escaping.
void appendCanonicalString(std::string& out, std::string_view s);

}  // namespace llmgate::json
