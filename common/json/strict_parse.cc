#include "common/json/strict_parse.h"

#include <algorithm>
#include <forward_list>

#include "boost/container/small_vector.hpp"
#include "boost/json/basic_parser_impl.hpp"
#include "boost/json/error.hpp"
#include "boost/json/value_stack.hpp"
#include "common/text/str_cat.h"

namespace llmgate::json {
namespace {

// The SAX handler of the one parsing pass: builds the DOM exactly as
// boost::json::parser's own handler does (a value_stack) and refuses
// duplicate keys on the way, so the text is parsed once, not twice.
// Keys of all open objects live in one flat vector (a stack of spans), as
// views into the input when the key is unescaped (the common case); the
// vectors keep a typical request's keys and nesting inline, so it costs no
// allocation at all. Objects in
// LLM requests are small, so a linear scan per key beats hashing.
struct StrictHandler {
  constexpr static std::size_t max_object_size = boost::json::object::max_size();
  constexpr static std::size_t max_array_size = boost::json::array::max_size();
  constexpr static std::size_t max_key_size = boost::json::string::max_size();
  constexpr static std::size_t max_string_size = boost::json::string::max_size();

  StrictHandler(std::string_view input, unsigned char* temp, std::size_t temp_size)
      : input(input), st(boost::json::storage_ptr(), temp, temp_size) {}

  std::string_view input;
  // Keys of every open object, innermost last.
  boost::container::small_vector<std::string_view, 48> keys;
  // Where each open object's keys begin.
  boost::container::small_vector<std::size_t, 16> object_starts;
  // Escaped or split keys (rare): allocates only when used.
  std::forward_list<std::string> owned;
  std::string partial;
  bool in_partial = false;
  std::string duplicate;
  std::size_t depth = 0;  // open objects and arrays
  boost::container::small_vector<std::string_view, 16> top_level_keys;
  boost::json::value_stack st;

  bool inInput(std::string_view s) const {
    return s.data() >= input.data() && s.data() + s.size() <= input.data() + input.size();
  }

  bool on_document_begin(boost::system::error_code&) { return true; }
  bool on_document_end(boost::system::error_code&) { return true; }
  bool on_object_begin(boost::system::error_code&) {
    ++depth;
    object_starts.push_back(keys.size());
    return true;
  }
  bool on_object_end(std::size_t n, boost::system::error_code&) {
    --depth;
    keys.resize(object_starts.back());
    object_starts.pop_back();
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
    partial.append(part);
    in_partial = true;
    st.push_chars(part);
    return true;
  }
  bool on_key(std::string_view part, std::size_t, boost::system::error_code& ec) {
    std::string_view key = part;
    const bool escaped = in_partial || !inInput(part);
    if (escaped) {
      partial.append(part);
      owned.push_front(std::move(partial));
      key = owned.front();
      partial.clear();
      in_partial = false;
    }
    for (std::size_t i = object_starts.back(); i < keys.size(); ++i) {
      if (keys[i] == key) {
        duplicate = std::string(key.substr(0, 64));
        ec = boost::json::error::syntax;
        return false;
      }
    }
    keys.push_back(key);
    if (depth == 1 && !escaped) top_level_keys.push_back(key);
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
    if (!parser.handler().duplicate.empty()) {
      result.error = strCat("duplicate key \"", parser.handler().duplicate.substr(0, 64), "\"");
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
