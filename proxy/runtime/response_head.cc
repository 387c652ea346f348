#include "proxy/runtime/response_head.h"

#include <algorithm>
#include <ostream>

#include "boost/beast/core/string.hpp"
#include "boost/beast/http/status.hpp"

namespace llmgate::proxy::runtime {

void ResponseHead::set(std::string_view name, std::string_view value) {
  // Beast trims optional whitespace around a value.
  const auto first = value.find_first_not_of(" \t");
  value = first == std::string_view::npos
              ? std::string_view()
              : value.substr(first, value.find_last_not_of(" \t") + 1 - first);
  std::erase_if(fields_,
                [&](const auto& field) { return boost::beast::iequals(field.first, name); });
  fields_.emplace_back(name, value);
}

void ResponseHead::keepAlive(bool keep_alive) {
  if (version_ >= 11 && !keep_alive) set("Connection", "close");
  if (version_ < 11 && keep_alive) set("Connection", "keep-alive");
}

std::string ResponseHead::render() const {
  const auto reason =
      boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status_));
  std::size_t size = 17 + reason.size() + 2;
  for (const auto& [name, value] : fields_) size += name.size() + value.size() + 4;
  std::string out;
  out.reserve(size);
  out += "HTTP/";
  out += static_cast<char>('0' + version_ / 10);
  out += '.';
  out += static_cast<char>('0' + version_ % 10);
  out += ' ';
  out += static_cast<char>('0' + status_ / 100 % 10);
  out += static_cast<char>('0' + status_ / 10 % 10);
  out += static_cast<char>('0' + status_ % 10);
  out += ' ';
  out.append(reason.data(), reason.size());
  out += "\r\n";
  for (const auto& [name, value] : fields_) {
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  out += "\r\n";
  return out;
}

}  // namespace llmgate::proxy::runtime
