// A small RFC 6902 applier for the tests (add, replace, remove; RFC 6901
// pointers with ~0/~1 escapes and "-" for the end of an array). Strict: a
// path whose parent does not exist, an index out of range or an unknown op
// is an error, as in the API server's applier.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "boost/json/array.hpp"
#include "boost/json/value.hpp"

namespace llmgate::control::webhook::testing {

absl::StatusOr<std::vector<std::string>> parsePointer(std::string_view pointer);

absl::StatusOr<boost::json::value> applyJsonPatch(boost::json::value document,
                                                  const boost::json::array& operations);

std::string base64Decode(std::string_view text);

}  // namespace llmgate::control::webhook::testing
