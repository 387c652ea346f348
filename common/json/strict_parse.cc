#include "common/json/strict_parse.h"

#include <algorithm>

#include "boost/container/small_vector.hpp"
#include "boost/json/basic_parser_impl.hpp"
#include "boost/json/error.hpp"
#include "boost/json/value_stack.hpp"
#include "common/json/duplicate_keys.h"
#include "common/text/str_cat.h"

namespace llmgate::json {
namespace {

// The SAX handler of the one parsing pass: builds the DOM exactly as
// boost::json::parser's own handler does (a value_stack) and refuses
// duplicate keys on the way, so the text is parsed once, not twice.
struct StrictHandler {
  constexpr static std::size_t max_object_size = boost::json::object::max_size();
  constexpr static std::size_t max_array_size = boost::json::array::max_size();
  constexpr static std::size_t max_key_size = boost::json::string::max_size();
  constexpr static std::size_t max_string_size = boost::json::string::max_size();

  StrictHandler(std::string_view input, unsigned char* temp, std::size_t temp_size)
      : keys(input), st(boost::json::storage_ptr(), temp, temp_size) {}

  DuplicateKeys keys;
  std::size_t depth = 0;  // open objects and arrays
  boost::container::small_vector<std::string_view, 16> top_level_keys;
  boost::json::value_stack st;

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) {
    ++depth;
    keys.objectBegin();
    return true;
  }
  bool on_object_end(std::size_t n, boost::system::error_code&) {
    --depth;
    keys.objectEnd();
    st.push_object(n);
    return true;
  }
  bool on_array_begin(boost::system::error_code&) {
    ++depth;
    return true;
  }
  bool on_array_end(std::size_t n, boost::system::error_code&) {
    --depth;
    st.push_array(n);
    return true;
  }
  bool on_key_part(std::string_view part, std::size_t, boost::system::error_code&) {
    keys.keyPart(part);
    st.push_chars(part);
    return true;
  }
  bool on_key(std::string_view part, std::size_t, boost::system::error_code& ec) {
    DuplicateKeys::Key key;
    if (!keys.key(part, key)) {
      ec = boost::json::error::syntax;
      return false;
    }
    if (depth == 1 && !key.escaped) top_level_keys.push_back(key.text);
    st.push_key(part);
    return true;
  }
  bool on_string_part(std::string_view s, std::size_t, boost::system::error_code&) {
    st.push_chars(s);
    return true;
  }
  bool on_string(std::string_view s, std::size_t, boost::system::error_code&) {
    st.push_string(s);
    return true;
  }
  bool on_number_part(std::string_view, boost::system::error_code&) { return true; }
  bool on_int64(std::int64_t i, std::string_view, boost::system::error_code&) {
    st.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, std::string_view, boost::system::error_code&) {
    st.push_uint64(u);
    return true;
  }
  bool on_double(double d, std::string_view, boost::system::error_code&) {
    st.push_double(d);
    return true;
  }
  bool on_bool(bool b, boost::system::error_code&) {
    st.push_bool(b);
    return true;
  }
  bool on_null(boost::system::error_code&) {
    st.push_null();
    return true;
  }
  bool on_comment_part(std::string_view, boost::system::error_code&) { return true; }
  bool on_comment(std::string_view, boost::system::error_code&) { return true; }
};

}  // namespace

StrictParseResult parseStrict(std::string_view text, int max_depth,
                              boost::json::storage_ptr storage) {
  // Constructed (not assigned) with the storage: assigning a value from
  // another storage would copy it.
  StrictParseResult result{.value = boost::json::value(storage)};
  boost::json::parse_options options;
  options.max_depth = static_cast<std::size_t>(max_depth);

  unsigned char temp[BOOST_JSON_STACK_BUFFER_SIZE];
  boost::json::basic_parser<StrictHandler> parser(options, text, temp, sizeof temp);
  parser.handler().st.reset(storage);
  boost::system::error_code ec;
  const std::size_t consumed = parser.write_some(false, text.data(), text.size(), ec);
  if (ec) {
    if (!parser.handler().keys.duplicate().empty()) {
      result.error = strCat("duplicate key \"", parser.handler().keys.duplicate(), "\"");
    } else {
      result.error = strCat(ec.message(), " at offset ", consumed);
    }
    return result;
  }
  if (consumed < text.size()) {  // what boost::json::parse reports for it
    result.error = boost::json::make_error_code(boost::json::error::extra_data).message();
    return result;
  }
  result.value = parser.handler().st.release();
  result.top_level_keys = std::move(parser.handler().top_level_keys);
  result.ok = true;
  return result;
}

}  // namespace llmgate::json
