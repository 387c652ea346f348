// The OpenAI Chat Completions dialect, shared by openai, deepseek, dashscope
// and mistral (../shared/PROVIDERS.md §0), with each one's small quirks.
#pragma once

#include "proxy/providers/adapter.h"

namespace llmgate::proxy::providers {

class OpenAiAdapter : public ProviderAdapter {
 public:
  explicit OpenAiAdapter(config::ProviderKind kind) : kind_(kind) {}

  std::string chatPath(const config::ProviderConfig& provider) const override;
  std::string embeddingsPath(const config::ProviderConfig& provider) const override;
  void prepareChatBody(boost::json::object& body, const config::ModelConfig& model) const override;
  // Mistral also drops stream_options (see prepareChatBody).
  bool onlyRenamesModel() const override { return kind_ != config::ProviderKind::kMistral; }
  void addAuth(boost::beast::http::fields& headers,
               const config::ProviderConfig& provider) const override;
  api::ApiError mapError(int status, const boost::beast::http::fields& headers,
                         std::string_view body,
                         const config::ProviderConfig& provider) const override;

 private:
  config::ProviderKind kind_;
};

}  // namespace llmgate::proxy::providers
