#include "proxy/providers/adapter.h"

#include "proxy/providers/openai_adapter.h"

namespace llmgate::proxy::providers {
namespace {

// Anthropic's Messages API needs a request/response/stream translation that
// comes with the routing issue; until then it is refused clearly.
class UnsupportedAdapter final : public OpenAiAdapter {
 public:
  UnsupportedAdapter() : OpenAiAdapter(config::ProviderKind::kAnthropic) {}
  bool supported() const override { return false; }
};

}  // namespace

const ProviderAdapter& adapterFor(config::ProviderKind kind) {
  static const OpenAiAdapter openai(config::ProviderKind::kOpenAI);
  static const OpenAiAdapter deepseek(config::ProviderKind::kDeepSeek);
  static const OpenAiAdapter dashscope(config::ProviderKind::kDashScope);
  static const OpenAiAdapter mistral(config::ProviderKind::kMistral);
  static const UnsupportedAdapter anthropic;
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
