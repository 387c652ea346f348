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
  // Mistral's non-streamed answers: finish_reason `model_length` → `length`.
  bool translatesAnswers() const override { return kind_ == config::ProviderKind::kMistral; }
  bool translateResponse(boost::json::value& response) const override;
  // The upstream body may be the client's bytes with only the model (and the
  // output limit) replaced: not for DeepSeek and Mistral, whose bodies are
  // rewritten (prepareDeepSeekBody, prepareMistralBody).
  bool onlyRenamesModel() const override {
    return kind_ != config::ProviderKind::kMistral && kind_ != config::ProviderKind::kDeepSeek;
  }
  void appendAuth(std::string& head, const config::ProviderConfig& provider) const override;
  api::ApiError mapError(int status, const boost::beast::http::fields& headers,
                         std::string_view body,
                         const config::ProviderConfig& provider) const override;

 private:
  config::ProviderKind kind_;
};

}  // namespace llmgate::proxy::providers
