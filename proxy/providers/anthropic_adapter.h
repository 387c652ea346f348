// Anthropic's Messages API (../shared/PROVIDERS.md §3) behind the OpenAI
// surface: requests are translated (system prompt, tools, tool results,
// stop sequences, required max_tokens), answers and stream events are
// translated back (finish_reason, usage, tool calls), so a client — or a
// failover from another provider — always sees OpenAI's schema (R24).
#pragma once

#include "proxy/providers/adapter.h"

namespace llmgate::proxy::providers {

class AnthropicAdapter final : public ProviderAdapter {
 public:
  std::string chatPath(const config::ProviderConfig& provider) const override;
  std::string embeddingsPath(const config::ProviderConfig& provider) const override;
  void prepareChatBody(boost::json::object& body, const config::ModelConfig& model) const override;
  bool translatesAnswers() const override { return true; }
  bool translateResponse(boost::json::value& response) const override;
  std::unique_ptr<StreamTranslator> newStreamTranslator(bool include_usage) const override;
  void appendAuth(std::string& head, const config::ProviderConfig& provider) const override;
  api::ApiError mapError(int status, const boost::beast::http::fields& headers,
                         std::string_view body,
                         const config::ProviderConfig& provider) const override;
};

// OpenAI finish_reason for an Anthropic stop_reason.
std::string_view finishReasonFor(std::string_view stop_reason);

}  // namespace llmgate::proxy::providers
