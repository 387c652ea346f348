#include "common/json/strict_parse.h"

#include <algorithm>
#include <vector>

#include "boost/json/basic_parser_impl.hpp"
#include "boost/json/parse.hpp"
#include "common/text/str_cat.h"

namespace llmgate::json {
namespace {

// A validating SAX handler: builds nothing, only tracks the keys of each open
// object to find duplicates. Objects in LLM requests are small, so a linear
// scan per key is cheaper than hashing.
struct DuplicateKeyHandler {
  constexpr static std::size_t max_object_size = std::size_t(-1);
  constexpr static std::size_t max_array_size = std::size_t(-1);
  constexpr static std::size_t max_key_size = std::size_t(-1);
  constexpr static std::size_t max_string_size = std::size_t(-1);

  std::vector<std::vector<std::string>> open_objects;
  std::string key;
  std::string duplicate;

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) {
    open_objects.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, boost::system::error_code&) {
    open_objects.pop_back();
    return true;
  }
  bool on_array_begin(boost::system::error_code&) { return true; }
  bool on_array_end(std::size_t, boost::system::error_code&) { return true; }
  bool on_key_part(std::string_view part, std::size_t, boost::system::error_code&) {
    key.append(part);
    return true;
  }
  bool on_key(std::string_view part, std::size_t, boost::system::error_code& ec) {
    key.append(part);
    auto& keys = open_objects.back();
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
      duplicate = key;
      ec = boost::json::error::syntax;
      return false;
    }
    keys.push_back(std::move(key));
    key.clear();
    return true;
  }
  bool on_string_part(std::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_string(std::string_view, std::size_t, boost::system::error_code&) { return true; }
  bool on_number_part(std::string_view, boost::system::error_code&) { return true; }
  bool on_int64(std::int64_t, std::string_view, boost::system::error_code&) { return true; }
  bool on_uint64(std::uint64_t, std::string_view, boost::system::error_code&) { return true; }
  bool on_double(double, std::string_view, boost::system::error_code&) { return true; }
  bool on_bool(bool, boost::system::error_code&) { return true; }
  bool on_null(boost::system::error_code&) { return true; }
  bool on_comment_part(std::string_view, boost::system::error_code&) { return true; }
  bool on_comment(std::string_view, boost::system::error_code&) { return true; }
};

}  // namespace

StrictParseResult parseStrict(std::string_view text, int max_depth) {
  StrictParseResult result;
  boost::json::parse_options options;
  options.max_depth = static_cast<std::size_t>(max_depth);

  boost::json::basic_parser<DuplicateKeyHandler> checker(options);
  boost::system::error_code ec;
  const std::size_t consumed = checker.write_some(false, text.data(), text.size(), ec);
  if (ec) {
    if (!checker.handler().duplicate.empty()) {
      result.error = strCat("duplicate key \"", checker.handler().duplicate.substr(0, 64), "\"");
    } else {
      result.error = strCat(ec.message(), " at offset ", consumed);
    }
    return result;
  }
  result.value = boost::json::parse(text, ec, {}, options);
  if (ec) {
    result.error = ec.message();
    return result;
  }
  result.ok = true;
  return result;
}

}  // namespace llmgate::json
