#include "proxy/routing/request_facts.h"

#include "proxy/routing/message_text.h"

namespace llmgate::proxy::routing {

void readBodyFacts(const boost::json::object& body, RequestFacts& facts) {
  if (const auto* tools = body.if_contains("tools"); tools && tools->is_array()) {
    facts.has_tools = !tools->get_array().empty();
  }
  if (const auto* format = body.if_contains("response_format"); format && format->is_object()) {
    facts.has_response_format = true;
    if (const auto* type = format->get_object().if_contains("type"); type && type->is_string()) {
      facts.response_format_type = type->get_string();
    }
  }
  facts.last_user_message.clear();
  const auto* messages = body.if_contains("messages");
  if (messages == nullptr || !messages->is_array()) return;
  const auto& list = messages->get_array();
  for (auto it = list.rbegin(); it != list.rend(); ++it) {
    if (!it->is_object()) continue;
    const auto& msg = it->get_object();
    const auto* role = msg.if_contains("role");
    if (role == nullptr || !role->is_string() || role->get_string() != "user") continue;
    if (const auto* content = msg.if_contains("content")) {
      appendMessageText(*content, facts.last_user_message);
    }
    return;
  }
}

std::uint64_t splitDraw(std::string_view request_id) {
  std::uint64_t h = 0xcbf29ce484222325ull;  // FNV-1a, then a splitmix64 finalizer
  for (unsigned char c : request_id) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebull;
  h ^= h >> 31;
  return h;
}

}  // namespace llmgate::proxy::routing
