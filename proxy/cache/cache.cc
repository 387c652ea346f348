#include "proxy/cache/cache.h"

#include <utility>

#include "boost/json/value.hpp"

namespace llmgate::proxy::cache {

bool isStorableCompletion(const boost::json::object& completion) {
  const auto* object = completion.if_contains("object");
  if (object == nullptr || !object->is_string() || object->get_string() != "chat.completion") {
    return false;
  }
  if (completion.contains("error")) return false;
  const auto* choices = completion.if_contains("choices");
  if (choices == nullptr || !choices->is_array() || choices->get_array().empty()) return false;
  for (const auto& choice : choices->get_array()) {
    if (!choice.is_object()) return false;
    const auto* finish = choice.get_object().if_contains("finish_reason");
    if (finish == nullptr || !finish->is_string()) return false;
    const auto& reason = finish->get_string();
    if (reason != "stop" && reason != "tool_calls" && reason != "function_call") return false;
    const auto* message = choice.get_object().if_contains("message");
    if (message == nullptr || !message->is_object()) return false;
  }
  return true;
}

std::optional<CachedResponse> makeCachedResponse(std::string body, std::string_view model,
                                                 std::string_view provider) {
  const api::AnswerSummaryResult summarized = api::summarizeAnswer(body);
  if (summarized.error || !summarized.summary.storable()) return std::nullopt;
  return cachedResponseOf(std::move(body), summarized.summary, model, provider);
}

CachedResponse cachedResponseOf(std::string body, const api::AnswerSummary& summary,
                                std::string_view model, std::string_view provider) {
  CachedResponse out;
  if (summary.usage) {
    out.prompt_tokens = summary.usage->prompt_tokens;
    out.cached_prompt_tokens = summary.usage->cached_prompt_tokens;
    out.completion_tokens = summary.usage->completion_tokens;
  }
  out.created = summary.created;
  // An answer read in several pieces may have spare capacity: L1 keeps it for
  // an hour, so give it back.
  if (body.capacity() > body.size() + body.size() / 8) body.shrink_to_fit();
  out.body = std::move(body);
  out.model = std::string(model);
  out.provider = std::string(provider);
  return out;
}

}  // namespace llmgate::proxy::cache
