// Header lookups for the request path. Beast's basic_fields::find goes
// through its case-insensitive ordered set: a handful of character-by-
// character comparisons per lookup (~400 instructions on a typical request).
// A request or answer carries few fields, so one walk down the field list,
// comparing the field enum (or the length first, then the name), is several
// times cheaper and finds the same first field.
#pragma once

#include <string_view>

#include "boost/beast/core/string.hpp"
#include "boost/beast/http/field.hpp"

namespace llmgate::net {

// The first field named `name` (a known field), or fields.end().
template <class Fields>
auto findField(const Fields& fields, boost::beast::http::field name) {
  auto it = fields.begin();
  while (it != fields.end() && it->name() != name) ++it;
  return it;
}

// The first field whose name equals `name` ignoring case, or fields.end().
template <class Fields>
auto findField(const Fields& fields, std::string_view name) {
  auto it = fields.begin();
  for (; it != fields.end(); ++it) {
    const std::string_view candidate(it->name_string());
    if (candidate.size() == name.size() && boost::beast::iequals(candidate, name)) break;
  }
  return it;
}

}  // namespace llmgate::net
