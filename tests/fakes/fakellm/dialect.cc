#include "tests/fakes/fakellm/dialect.h"

#include <array>

namespace llmgate::fakellm {
namespace {

struct RouteEntry {
  std::string_view path;
  Route route;
};

constexpr std::array kRoutes = {
    RouteEntry{"/v1/chat/completions", {RouteKind::kChat, Dialect::kOpenAi}},
    RouteEntry{"/openai/v1/chat/completions", {RouteKind::kChat, Dialect::kOpenAi}},
    RouteEntry{"/deepseek/chat/completions", {RouteKind::kChat, Dialect::kDeepSeek}},
    RouteEntry{"/deepseek/v1/chat/completions", {RouteKind::kChat, Dialect::kDeepSeek}},
    RouteEntry{"/dashscope/compatible-mode/v1/chat/completions",
               {RouteKind::kChat, Dialect::kDashScope}},
    RouteEntry{"/mistral/v1/chat/completions", {RouteKind::kChat, Dialect::kMistral}},
    RouteEntry{"/anthropic/v1/messages", {RouteKind::kChat, Dialect::kAnthropic}},
    RouteEntry{"/v1/embeddings", {RouteKind::kEmbeddings, Dialect::kOpenAi}},
    RouteEntry{"/openai/v1/embeddings", {RouteKind::kEmbeddings, Dialect::kOpenAi}},
    RouteEntry{"/v1/models", {RouteKind::kModels, Dialect::kOpenAi}},
    RouteEntry{"/openai/v1/models", {RouteKind::kModels, Dialect::kOpenAi}},
    RouteEntry{"/deepseek/models", {RouteKind::kModels, Dialect::kDeepSeek}},
    RouteEntry{"/deepseek/v1/models", {RouteKind::kModels, Dialect::kDeepSeek}},
    RouteEntry{"/dashscope/compatible-mode/v1/models", {RouteKind::kModels, Dialect::kDashScope}},
    RouteEntry{"/mistral/v1/models", {RouteKind::kModels, Dialect::kMistral}},
    RouteEntry{"/anthropic/v1/models", {RouteKind::kModels, Dialect::kAnthropic}},
    RouteEntry{"/deepseek/user/balance", {RouteKind::kDeepSeekBalance, Dialect::kDeepSeek}},
    RouteEntry{"/_fakellm/script", {RouteKind::kControlScript, Dialect::kOpenAi}},
    RouteEntry{"/_fakellm/stats", {RouteKind::kControlStats, Dialect::kOpenAi}},
    RouteEntry{"/_fakellm/reset", {RouteKind::kControlReset, Dialect::kOpenAi}},
    RouteEntry{"/_fakellm/health", {RouteKind::kControlHealth, Dialect::kOpenAi}},
};

struct PrefixEntry {
  std::string_view prefix;
  Dialect dialect;
};

constexpr std::array kPrefixes = {
    PrefixEntry{"/deepseek/", Dialect::kDeepSeek},
    PrefixEntry{"/dashscope/", Dialect::kDashScope},
    PrefixEntry{"/mistral/", Dialect::kMistral},
    PrefixEntry{"/anthropic/", Dialect::kAnthropic},
};

constexpr std::string_view kBase62 =
    "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
constexpr std::string_view kHex = "0123456789abcdef";

// One generator draw gives several characters (6 bits each; the alphabets
// have at most 64 letters, the slight bias does not matter here).
void appendRandom(std::string& out, std::string_view alphabet, int n, Rng& rng) {
  uint64_t bits = 0;
  for (int i = 0; i < n; ++i) {
    if (i % 10 == 0) bits = rng();
    out.push_back(alphabet[(bits & 63) % alphabet.size()]);
    bits >>= 6;
  }
}

}  // namespace

Route matchRoute(std::string_view target) {
  const std::string_view path = target.substr(0, target.find('?'));
  for (const auto& entry : kRoutes) {
    if (entry.path == path) return entry.route;
  }
  for (const auto& entry : kPrefixes) {
    if (path.starts_with(entry.prefix)) return {RouteKind::kNotFound, entry.dialect};
  }
  return {};
}

std::string_view dialectName(Dialect dialect) {
  switch (dialect) {
    case Dialect::kOpenAi:
      return "openai";
    case Dialect::kDeepSeek:
      return "deepseek";
    case Dialect::kDashScope:
      return "dashscope";
    case Dialect::kMistral:
      return "mistral";
    case Dialect::kAnthropic:
      return "anthropic";
  }
  return "openai";
}

std::string_view requestIdHeader(Dialect dialect) {
  switch (dialect) {
    case Dialect::kDeepSeek:
      return "x-ds-trace-id";
    case Dialect::kMistral:
      return "mistral-correlation-id";
    case Dialect::kAnthropic:
      return "request-id";
    case Dialect::kOpenAi:
    case Dialect::kDashScope:
      break;
  }
  return "x-request-id";
}

std::string newUuid(Rng& rng) {
  std::string out;
  out.reserve(36);
  uint64_t bits = 0;
  for (int i = 0; i < 32; ++i) {
    if (i % 16 == 0) bits = rng();
    if (i == 8 || i == 12 || i == 16 || i == 20) out.push_back('-');
    char c = kHex[bits & 15];
    if (i == 12) c = '4';                   // version
    if (i == 16) c = kHex[8 + (bits & 3)];  // variant 10xx
    out.push_back(c);
    bits >>= 4;
  }
  return out;
}

std::string newRequestId(Dialect dialect, Rng& rng) {
  std::string out;
  switch (dialect) {
    case Dialect::kOpenAi:
      out = "req_";
      appendRandom(out, kHex, 32, rng);
      return out;
    case Dialect::kDeepSeek:
      appendRandom(out, kHex, 32, rng);
      return out;
    case Dialect::kAnthropic:
      out = "req_011C";
      appendRandom(out, kBase62, 20, rng);
      return out;
    case Dialect::kDashScope:
    case Dialect::kMistral:
      break;
  }
  return newUuid(rng);
}

std::string newCompletionId(Dialect dialect, Rng& rng) {
  std::string out;
  switch (dialect) {
    case Dialect::kOpenAi:
      out = "chatcmpl-";
      appendRandom(out, kBase62, 29, rng);
      return out;
    case Dialect::kDeepSeek:
      return newUuid(rng);
    case Dialect::kDashScope:
      return "chatcmpl-" + newUuid(rng);
    case Dialect::kMistral:
      appendRandom(out, kHex, 32, rng);
      return out;
    case Dialect::kAnthropic:
      out = "msg_01";
      appendRandom(out, kBase62, 22, rng);
      return out;
  }
  return out;
}

std::string newToolCallId(Dialect dialect, Rng& rng) {
  std::string out;
  switch (dialect) {
    case Dialect::kDeepSeek:
      return "call_0_" + newUuid(rng);
    case Dialect::kMistral:
      appendRandom(out, kBase62, 9, rng);
      return out;
    case Dialect::kAnthropic:
      out = "toolu_01";
      appendRandom(out, kBase62, 22, rng);
      return out;
    case Dialect::kOpenAi:
    case Dialect::kDashScope:
      break;
  }
  out = "call_";
  appendRandom(out, kBase62, 24, rng);
  return out;
}

}  // namespace llmgate::fakellm
