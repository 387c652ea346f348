#include "proxy/runtime/response_head.h"

#include <algorithm>
#include <cstring>
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
  fields_.erase(
      std::remove_if(fields_.begin(), fields_.end(),
                     [&](const auto& field) { return boost::beast::iequals(field.first, name); }),
      fields_.end());
  fields_.emplace_back(name, value);
}

void ResponseHead::keepAlive(bool keep_alive) {
  if (version_ >= 11 && !keep_alive) set("Connection", "close");
  if (version_ < 11 && keep_alive) set("Connection", "keep-alive");
}

std::string ResponseHead::render() const {
  const auto reason =
      boost::beast::http::obsolete_reason(static_cast<boost::beast::http::status>(status_));
  std::size_t size = 13 + reason.size() + 2 + 2;  // "HTTP/1.1 200 " reason CRLF ... CRLF
  for (const auto& [name, value] : fields_) size += name.size() + value.size() + 4;
  // Sized once, then written through a pointer: no capacity check per piece.
  std::string out(size, '\0');
  char* p = out.data();
  const auto put = [&p](std::string_view piece) {
    std::memcpy(p, piece.data(), piece.size());
    p += piece.size();
  };
  const char line[] = {'H',
                       'T',
                       'T',
                       'P',
                       '/',
                       static_cast<char>('0' + version_ / 10),
                       '.',
                       static_cast<char>('0' + version_ % 10),
                       ' ',
                       static_cast<char>('0' + status_ / 100 % 10),
                       static_cast<char>('0' + status_ / 10 % 10),
                       static_cast<char>('0' + status_ % 10),
                       ' '};
  put(std::string_view(line, sizeof line));
  put(std::string_view(reason.data(), reason.size()));
  put("\r\n");
  for (const auto& [name, value] : fields_) {
    put(name);
    put(": ");
    put(value);
    put("\r\n");
  }
  put("\r\n");
  return out;
}

}  // namespace llmgate::proxy::runtime
