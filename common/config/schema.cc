#include "common/config/schema.h"

#include <algorithm>
#include <string_view>

namespace llmgate::config {
namespace {

template <typename T>
const T* findByName(const std::vector<T>& items, std::string_view name) {
  const auto it =
      std::find_if(items.begin(), items.end(), [&](const T& item) { return item.name == name; });
  return it == items.end() ? nullptr : &*it;
}

}  // namespace

const char* toString(ProviderKind kind) {
  switch (kind) {
    case ProviderKind::kOpenAI:
      return "openai";
    case ProviderKind::kDeepSeek:
      return "deepseek";
    case ProviderKind::kDashScope:
      return "dashscope";
    case ProviderKind::kMistral:
      return "mistral";
    case ProviderKind::kAnthropic:
      return "anthropic";
  }
  return "unknown";
}

const ProviderConfig* Config::findProvider(std::string_view name) const {
  return findByName(providers, name);
}

const ModelConfig* Config::findModel(std::string_view name) const {
  return findByName(models, name);
}

const RouteConfig* Config::findRoute(std::string_view name) const {
  return findByName(routes, name);
}

}  // namespace llmgate::config
