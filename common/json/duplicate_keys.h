// Duplicate-key detection for a SAX pass over one JSON text (Boost.JSON's
// basic_parser lets duplicates through: which one would an upstream see?).
// Keys of all open objects live in one flat vector (a stack of spans), as
// views into the input when the key is unescaped (the common case); the
// vectors keep a typical request's keys and nesting inline, so it costs no
// allocation at all. Objects in LLM requests are small, so a linear scan per
// key beats hashing.
#pragma once

#include <cstddef>
#include <forward_list>
#include <string>
#include <string_view>

#include "boost/container/small_vector.hpp"

namespace llmgate::json {

class DuplicateKeys {
 public:
  explicit DuplicateKeys(std::string_view input) : input_(input) {}

  void objectBegin() { object_starts_.push_back(keys_.size()); }
  void objectEnd() {
    keys_.resize(object_starts_.back());
    object_starts_.pop_back();
  }
  // A piece of a key that the parser delivers in parts (escaped or split).
  void keyPart(std::string_view part) {
    partial_.append(part);
    in_partial_ = true;
  }

  struct Key {
    std::string_view text;  // the whole key, unescaped; valid until the parse ends
    bool escaped = false;   // not a view into the input (escaped, or delivered in parts)
  };
  // The last part of a key. False when the innermost open object has it
  // already (duplicate() then names it).
  bool key(std::string_view last_part, Key& out) {
    out = Key{last_part, in_partial_ || !inInput(last_part)};
    if (out.escaped) {
      partial_.append(last_part);
      owned_.push_front(std::move(partial_));
      out.text = owned_.front();
      partial_.clear();
      in_partial_ = false;
    }
    for (std::size_t i = object_starts_.back(); i < keys_.size(); ++i) {
      if (keys_[i] == out.text) {
        duplicate_ = std::string(out.text.substr(0, 64));
        return false;
      }
    }
    keys_.push_back(out.text);
    return true;
  }
  // The key refused by key(), at most 64 bytes of it; empty when none was.
  const std::string& duplicate() const { return duplicate_; }
  bool inInput(std::string_view s) const {
    return s.data() >= input_.data() && s.data() + s.size() <= input_.data() + input_.size();
  }

 private:
  std::string_view input_;
  // Keys of every open object, innermost last.
  boost::container::small_vector<std::string_view, 48> keys_;
  // Where each open object's keys begin.
  boost::container::small_vector<std::size_t, 16> object_starts_;
  // Escaped or split keys (rare): allocates only when used.
  std::forward_list<std::string> owned_;
  std::string partial_;
  bool in_partial_ = false;
  std::string duplicate_;
};

}  // namespace llmgate::json
