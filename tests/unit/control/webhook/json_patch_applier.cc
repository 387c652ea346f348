#include "tests/unit/control/webhook/json_patch_applier.h"

#include <charconv>

#include "absl/status/status.h"
#include "common/text/str_cat.h"

namespace llmgate::control::webhook::testing {
namespace {

namespace json = boost::json;

absl::StatusOr<std::size_t> arrayIndex(const std::string& token, std::size_t size, bool allow_end) {
  if (token == "-") {
    if (!allow_end) return absl::InvalidArgumentError("\"-\" only for add");
    return size;
  }
  if (token.empty() || (token.size() > 1 && token[0] == '0')) {
    return absl::InvalidArgumentError(strCat("bad array index \"", token, "\""));
  }
  std::size_t index = 0;
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), index);
  if (ec != std::errc() || end != token.data() + token.size()) {
    return absl::InvalidArgumentError(strCat("bad array index \"", token, "\""));
  }
  if (index > size || (!allow_end && index == size)) {
    return absl::InvalidArgumentError(strCat("index ", index, " out of range"));
  }
  return index;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> parsePointer(std::string_view pointer) {
  std::vector<std::string> tokens;
  if (pointer.empty()) return tokens;
  if (pointer[0] != '/') return absl::InvalidArgumentError("a pointer starts with /");
  std::string token;
  for (std::size_t i = 1; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      tokens.push_back(token);
      token.clear();
      continue;
    }
    if (pointer[i] == '~') {
      if (i + 1 >= pointer.size() || (pointer[i + 1] != '0' && pointer[i + 1] != '1')) {
        return absl::InvalidArgumentError("bad ~ escape");
      }
      token += pointer[i + 1] == '0' ? '~' : '/';
      ++i;
      continue;
    }
    token += pointer[i];
  }
  return tokens;
}

absl::StatusOr<json::value> applyJsonPatch(json::value document, const json::array& operations) {
  for (const json::value& op_value : operations) {
    if (!op_value.is_object()) return absl::InvalidArgumentError("an operation is not an object");
    const json::object& op = op_value.get_object();
    const json::value* op_name = op.if_contains("op");
    const json::value* path_value = op.if_contains("path");
    if (op_name == nullptr || !op_name->is_string() || path_value == nullptr ||
        !path_value->is_string()) {
      return absl::InvalidArgumentError("an operation needs op and path strings");
    }
    const std::string name(op_name->get_string());
    absl::StatusOr<std::vector<std::string>> tokens = parsePointer(path_value->get_string());
    if (!tokens.ok()) return tokens.status();
    const json::value* value = op.if_contains("value");
    if ((name == "add" || name == "replace") && value == nullptr) {
      return absl::InvalidArgumentError(strCat(name, " needs a value"));
    }
    if (name != "add" && name != "replace" && name != "remove") {
      return absl::InvalidArgumentError(strCat("unsupported op ", name));
    }
    if (tokens->empty()) {
      if (name == "remove") return absl::InvalidArgumentError("cannot remove the root");
      document = *value;
      continue;
    }
    json::value* parent = &document;
    for (std::size_t i = 0; i + 1 < tokens->size(); ++i) {
      const std::string& token = (*tokens)[i];
      if (parent->is_object()) {
        parent = parent->get_object().if_contains(token);
      } else if (parent->is_array()) {
        absl::StatusOr<std::size_t> index = arrayIndex(token, parent->get_array().size(), false);
        if (!index.ok()) return index.status();
        parent = &parent->get_array()[*index];
      } else {
        parent = nullptr;
      }
      if (parent == nullptr) {
        return absl::NotFoundError(
            strCat("path ", std::string(path_value->get_string()), ": parent does not exist"));
      }
    }
    const std::string& last = tokens->back();
    if (parent->is_object()) {
      json::object& object = parent->get_object();
      const bool exists = object.contains(last);
      if ((name == "replace" || name == "remove") && !exists) {
        return absl::NotFoundError(strCat(name, " of a missing member ", last));
      }
      if (name == "remove") {
        object.erase(last);
      } else {
        object[last] = *value;
      }
    } else if (parent->is_array()) {
      json::array& array = parent->get_array();
      absl::StatusOr<std::size_t> index = arrayIndex(last, array.size(), name == "add");
      if (!index.ok()) return index.status();
      if (name == "add") {
        array.insert(array.begin() + static_cast<std::ptrdiff_t>(*index), *value);
      } else if (name == "replace") {
        array[*index] = *value;
      } else {
        array.erase(array.begin() + static_cast<std::ptrdiff_t>(*index));
      }
    } else {
      return absl::InvalidArgumentError("the parent is neither an object nor an array");
    }
  }
  return document;
}

std::string base64Decode(std::string_view text) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  unsigned buffer = 0;
  int bits = 0;
  for (char c : text) {
    if (c == '=') break;
    const int v = value(c);
    if (v < 0) return "<invalid base64>";
    buffer = (buffer << 6) | static_cast<unsigned>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((buffer >> bits) & 0xFF);
    }
  }
  return out;
}

}  // namespace llmgate::control::webhook::testing
