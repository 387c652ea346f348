#include "control/webhook/json_patch.h"

#include "boost/json/serialize.hpp"
#include "common/text/str_cat.h"

namespace llmgate::control::webhook {

namespace json = boost::json;

std::string escapePointerToken(std::string_view token) {
  std::string out;
  out.reserve(token.size());
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

void JsonPatchBuilder::add(std::string path, json::value value) {
  operation("add", std::move(path), std::move(value));
}

void JsonPatchBuilder::replace(std::string path, json::value value) {
  operation("replace", std::move(path), std::move(value));
}

void JsonPatchBuilder::operation(std::string_view name, std::string path, json::value value) {
  json::object op;
  op["op"] = name;
  op["path"] = std::move(path);
  op["value"] = std::move(value);
  ops_.emplace_back(std::move(op));
}

void JsonPatchBuilder::appendToArray(const std::string& path, const json::array* existing,
                                     const std::vector<json::value>& items) {
  if (items.empty()) return;
  if (existing == nullptr) {
    add(path, json::array(items.begin(), items.end()));
    return;
  }
  for (const json::value& item : items) add(strCat(path, "/-"), item);
}

void JsonPatchBuilder::setMembers(const std::string& path, const json::object* existing,
                                  const json::object& members) {
  if (members.empty()) return;
  if (existing == nullptr) {
    add(path, members);
    return;
  }
  for (const auto& member : members) {
    add(strCat(path, "/", escapePointerToken(member.key())), member.value());
  }
}

std::string JsonPatchBuilder::serialize() const { return json::serialize(ops_); }

}  // namespace llmgate::control::webhook
