#include "proxy/routing/token_estimate.h"

#include "boost/json/serialize.hpp"

namespace llmgate::proxy::routing {
namespace {

std::uint64_t textBytes(const boost::json::value& content) {
  if (content.is_string()) return content.get_string().size();
  std::uint64_t bytes = 0;
  if (content.is_array()) {
    for (const auto& part : content.get_array()) {
      if (!part.is_object()) continue;
      if (const auto* text = part.get_object().if_contains("text"); text && text->is_string()) {
        bytes += text->get_string().size();
      }
    }
  }
  return bytes;
}

}  // namespace

std::uint64_t estimatePromptTokens(const boost::json::object& chat_body) {
  std::uint64_t bytes = 0;
  std::uint64_t messages = 0;
  if (const auto* list = chat_body.if_contains("messages"); list && list->is_array()) {
    for (const auto& m : list->get_array()) {
      if (!m.is_object()) continue;
      ++messages;
      if (const auto* content = m.get_object().if_contains("content")) bytes += textBytes(*content);
      if (const auto* calls = m.get_object().if_contains("tool_calls")) {
        bytes += boost::json::serialize(*calls).size();
      }
    }
  }
  if (const auto* tools = chat_body.if_contains("tools")) {
    bytes += boost::json::serialize(*tools).size();
  }
  return (bytes + 2) / 3 + 4 * messages + 3;
}

}  // namespace llmgate::proxy::routing
