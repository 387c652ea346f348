// What the validation pass gathers for the request path (the prompt's text,
// the sampling members, the limit keys) must give the same answers as the
// DOM it lets a pass-through skip: the token estimate, the cache's
// eligibility, the splice. Random valid requests with escapes, non-Latin
// text, content parts, names and tool calls, compared exactly.
#include <gtest/gtest.h>

#include <array>
#include <random>
#include <string>
#include <vector>

#include "common/text/str_cat.h"
#include "proxy/api/chat_request.h"
#include "proxy/cache/cache_policy.h"
#include "proxy/routing/token_estimator.h"
#include "tests/unit/proxy/api/random_json.h"

namespace llmgate::proxy::api {
namespace {

class PromptGenerator {
 public:
  explicit PromptGenerator(std::uint32_t seed) : rng_(seed) {}

  std::string body() {
    std::vector<std::string> members = {strCat("\"model\":\"m\""),
                                        strCat("\"messages\":", messages())};
    // One spelling of a key at most (duplicates are refused): a choice per key.
    static const std::vector<std::vector<std::string_view>> kChoices = {
        {R"("temperature":0)", R"("temperature":0.0)", R"("temperature":0.7)",
         R"("temperature":null)"},
        {R"("seed":7)", R"("seed":7.0)"},
        {R"("n":1)", R"("n":2)"},
        {R"("max_tokens":9)", R"("max_tok\u0065ns":9)"},
        {R"("max_completion_tokens":4)"},
        {R"("tools":[{"type":"function"}])"}};
    for (const auto& choice : kChoices) {
      if (pick(3) == 0) members.emplace_back(choice[pick(choice.size())]);
    }
    if (pick(6) == 0) {
      members.emplace_back(
          pick(2) ? R"("response_format":{"type":"json_schema","json_schema":{"name":"x"}})"
                  : R"("response_format":{"type":"json_object"})");
    }
    std::shuffle(members.begin(), members.end(), rng_);
    return joined("{", members, "}");
  }

 private:
  static std::string joined(std::string_view open, const std::vector<std::string>& items,
                            std::string_view close) {
    return testing::joinedJson(open, items, close);
  }

  int pick(std::size_t n) { return testing::pickBelow(rng_, n); }

  // JSON string literals: plain, escaped, non-Latin, long enough for the
  // SSE2 path, and long escaped ones the parser delivers in parts.
  std::string text() {
    static constexpr std::array<std::string_view, 9> kTexts = {
        R"("hello world")",
        R"("line\nbreak and \"quotes\" \u00e9t\u00e9")",
        R"("你好，世界。今天天气很好")",
        R"("Привет, как дела? Всё хорошо.")",
        R"("def f(x):\n    return x * 2  # code")",
        R"("")",
        R"("emoji \ud83d\ude00 and ascii")",
        R"("مرحبا بالعالم")",
        R"("tab\there")"};
    if (pick(8) == 0) {  // a long one, escaped: more than the parser's 4 KiB buffer
      std::string out = "\"";
      for (int i = 0; i < 700; ++i) out += "ab\\ncd ";
      return out + "\"";
    }
    return std::string(kTexts[pick(kTexts.size())]);
  }

  std::string message() {
    static constexpr std::array<std::string_view, 4> kRoles = {"user", "system", "assistant",
                                                               "tool"};
    const std::string_view role = kRoles[pick(kRoles.size())];
    std::vector<std::string> parts = {strCat("\"role\":\"", role, "\"")};
    switch (pick(4)) {
      case 0:
        parts.push_back(strCat("\"content\":[{\"type\":\"text\",\"text\":", text(),
                               "},{\"type\":\"image_url\",\"image_url\":{\"url\":\"x\"}}]"));
        break;
      case 1:  // only these roles may omit their content
        if (role == "assistant" || role == "tool") {
          parts.emplace_back("\"content\":null");
          break;
        }
        [[fallthrough]];
      default:
        parts.push_back(strCat("\"content\":", text()));
    }
    if (pick(4) == 0) parts.push_back(strCat("\"name\":", text()));
    if (pick(8) == 0) {
      parts.emplace_back(
          R"("tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}])");
    }
    std::shuffle(parts.begin(), parts.end(), rng_);
    return joined("{", parts, "}");
  }

  std::string messages() {
    std::vector<std::string> items(1 + pick(4));
    for (std::string& item : items) item = message();
    return joined("[", items, "]");
  }

  std::mt19937 rng_;
};

TEST(ChatRequestScanTest, GathersWhatTheDomGives) {
  PromptGenerator gen(20261124);
  int with_dom_estimate = 0;
  int deterministic = 0;
  for (int i = 0; i < 5000; ++i) {
    const std::string text = gen.body();
    ApiResult<ChatRequest> parsed = parseChatRequest(text);
    ASSERT_TRUE(std::holds_alternative<ChatRequest>(parsed)) << text << "\n"
                                                             << std::get<ApiError>(parsed).message;
    const ChatRequest& req = std::get<ChatRequest>(parsed);
    with_dom_estimate += req.prompt.needs_dom ? 1 : 0;

    // Estimated before the DOM exists (body() is lazy).
    const routing::PromptEstimate scanned = routing::estimatePrompt(req);
    const routing::PromptEstimate walked = routing::estimatePrompt(req.body());
    ASSERT_EQ(scanned.tokens, walked.tokens) << text;
    ASSERT_EQ(scanned.scripts.chars, walked.scripts.chars) << text;

    ASSERT_EQ(cache::isDeterministic(req), cache::isDeterministic(req.body())) << text;
    deterministic += cache::isDeterministic(req) ? 1 : 0;
    ASSERT_EQ(req.has_max_tokens, req.body().contains("max_tokens")) << text;
    ASSERT_EQ(req.has_max_completion_tokens, req.body().contains("max_completion_tokens")) << text;
  }
  EXPECT_GT(with_dom_estimate, 500);
  EXPECT_GT(deterministic, 500);
}

}  // namespace
}  // namespace llmgate::proxy::api
