#include "proxy/providers/adapter.h"

#include "proxy/providers/anthropic_adapter.h"
#include "proxy/providers/openai_adapter.h"

namespace llmgate::proxy::providers {

const ProviderAdapter& adapterFor(config::ProviderKind kind) {
  static const OpenAiAdapter openai(config::ProviderKind::kOpenAI);
  static const OpenAiAdapter deepseek(config::ProviderKind::kDeepSeek);
  static const OpenAiAdapter dashscope(config::ProviderKind::kDashScope);
  static const OpenAiAdapter mistral(config::ProviderKind::kMistral);
  static const AnthropicAdapter anthropic;
  switch (kind) {
    case config::ProviderKind::kOpenAI:
      return openai;
    case config::ProviderKind::kDeepSeek:
      return deepseek;
    case config::ProviderKind::kDashScope:
      return dashscope;
    case config::ProviderKind::kMistral:
      return mistral;
    case config::ProviderKind::kAnthropic:
      return anthropic;
  }
  return openai;
}

}  // namespace llmgate::proxy::providers
