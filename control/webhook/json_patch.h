// Builds an RFC 6902 JSON Patch against a document as sent: "add"
// operations, and "replace" for the one scalar injection may raise
// (spec.terminationGracePeriodSeconds). Nothing is ever removed.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "boost/json/array.hpp"
#include "boost/json/object.hpp"
#include "boost/json/value.hpp"

namespace llmgate::control::webhook {

// One reference token of an RFC 6901 JSON Pointer: "~" -> "~0", "/" -> "~1".
std::string escapePointerToken(std::string_view token);

class JsonPatchBuilder {
 public:
  // `add` at `path` (an existing object member is replaced, RFC 6902 4.1).
  void add(std::string path, boost::json::value value);

  // `replace` at `path`, which must exist in the document as sent.
  void replace(std::string path, boost::json::value value);

  // Appends `items` to the array at `path`. `existing` is that array in the
  // document as sent, or nullptr when the member is absent or null: then one
  // "add" creates the array with all items; otherwise one "add path/-" each.
  void appendToArray(const std::string& path, const boost::json::array* existing,
                     const std::vector<boost::json::value>& items);

  // Sets string members of the object at `path`. `existing` is that object as
  // sent (nullptr: absent or null, then one "add" creates it).
  void setMembers(const std::string& path, const boost::json::object* existing,
                  const boost::json::object& members);

  bool empty() const { return ops_.empty(); }
  const boost::json::array& operations() const { return ops_; }
  std::string serialize() const;

 private:
  void operation(std::string_view name, std::string path, boost::json::value value);

  boost::json::array ops_;
};

}  // namespace llmgate::control::webhook
