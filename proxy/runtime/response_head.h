// The status line and header fields of one response, rendered into one
// contiguous string so that head and body leave in a single gather write
// (one sendmsg) instead of going through Beast's field serializer.
//
// Field order and replacement follow Beast's basic_fields::set(): setting a
// name removes every earlier field of that name (case-insensitive) and
// appends the new one, so the bytes match what a Beast response would send.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "boost/container/small_vector.hpp"

namespace llmgate::proxy::runtime {

class ResponseHead {
 public:
  ResponseHead(unsigned status, unsigned http_version) : status_(status), version_(http_version) {}

  // Replaces every field named `name` (any case) and appends this one.
  // Names and values must outlive render().
  void set(std::string_view name, std::string_view value);
  // Appends a field the caller knows is not there yet (no search, no
  // trimming): the fields the writer itself adds once.
  void append(std::string_view name, std::string_view value) { fields_.emplace_back(name, value); }
  // Beast's message::keep_alive(): HTTP/1.1 closing adds "Connection: close",
  // HTTP/1.0 staying open adds "Connection: keep-alive".
  void keepAlive(bool keep_alive);

  // "HTTP/1.1 200 OK\r\n" + "Name: value\r\n" per field + "\r\n".
  std::string render() const;

 private:
  unsigned status_;
  unsigned version_;
  // A response carries about a dozen fields: held inline, no allocation.
  boost::container::small_vector<std::pair<std::string_view, std::string_view>, 16> fields_;
};

}  // namespace llmgate::proxy::runtime
