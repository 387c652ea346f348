// A request to a provider as it goes on the wire. The head is written once,
// as text, instead of through a Beast message whose fields are each a
// separate allocation and are serialized again on every send.
#pragma once

#include <string>
#include <string_view>

#include "common/text/str_cat.h"

namespace llmgate::proxy::upstream {

struct UpstreamRequest {
  // "METHOD target HTTP/1.1\r\n" and the field lines, each ending in CRLF;
  // without Content-Length and the blank line, which the sender adds.
  std::string head;
  // The caller's bytes, sent as they are: they must outlive the call (a
  // retry on a fresh connection sends them again). A view, so that each
  // attempt does not copy the body.
  std::string_view body;
};

// Starts `head` with the request line.
inline void appendRequestLine(std::string& head, std::string_view method, std::string_view target) {
  strAppend(head, method, " ", target, " HTTP/1.1\r\n");
}

// Appends one "name: value" field line. Values are the proxy's own (config,
// validated secrets), never a client's bytes.
inline void appendField(std::string& head, std::string_view name, std::string_view value) {
  strAppend(head, name, ": ", value, "\r\n");
}

}  // namespace llmgate::proxy::upstream
