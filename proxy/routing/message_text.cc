#include "proxy/routing/message_text.h"

namespace llmgate::proxy::routing {

void appendMessageText(const boost::json::value& content, std::string& out) {
  if (content.is_string()) {
    out.append(content.get_string());
    return;
  }
  if (!content.is_array()) return;
  for (const auto& part : content.get_array()) {
    if (!part.is_object()) continue;
    if (const auto* text = part.get_object().if_contains("text"); text && text->is_string()) {
      if (!out.empty()) out.push_back('\n');
      out.append(text->get_string());
    }
  }
}

}  // namespace llmgate::proxy::routing
