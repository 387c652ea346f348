// parseChatRequest finds the members it checks in one walk over the object;
// a client must still get the same answer as from the lookup-per-field
// version it replaced, in particular the same (first) error for a body with
// several mistakes. Random bodies full of mistakes, compared field by field.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <random>
#include <string>
#include <vector>

#include "common/text/str_cat.h"
#include "proxy/api/chat_request.h"
#include "tests/unit/proxy/api/chat_request_reference.h"
#include "tests/unit/proxy/api/random_json.h"

namespace llmgate::proxy::api {
namespace {

constexpr std::array<std::string_view, 34> kKeys = {
    "model", "messages", "temperature", "top_p", "presence_penalty", "frequency_penalty", "n",
    "max_tokens", "max_completion_tokens", "seed", "top_logprobs", "stream", "logprobs",
    "stream_options", "tools", "response_format", "logit_bias", "user", "extra_body", "stop",
    "api_base", "base_url", "api_key", "extra_headers", "api_version", "custom_llm_provider",
    "provider", "organization", "headers", "metadata", "modelx", "Stream",
    // escaped spellings: the same keys
    "stre\\u0061m", "max_tok\\u0065ns"};

class BodyGenerator {
 public:
  explicit BodyGenerator(std::uint32_t seed) : rng_(seed) {}

  std::string body() {
    std::vector<std::string> members;
    if (pick(10) != 0) members.push_back(strCat("\"model\":", model()));
    if (pick(10) != 0) members.push_back(strCat("\"messages\":", messages()));
    // Mostly few mistakes, so that later checks are reached too.
    const int extra = pick(4) == 0 ? pick(8) : pick(3);
    std::vector<std::string_view> used = {"model", "messages"};
    for (int i = 0; i < extra; ++i) {
      const std::string_view key = kKeys[pick(kKeys.size())];
      if (std::find(used.begin(), used.end(), key) != used.end()) continue;  // no duplicates
      used.push_back(key);
      members.push_back(strCat("\"", key, "\":", valueFor(key)));
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

  std::string any() {
    static constexpr std::array<std::string_view, 16> kValues = {
        "null", "true", "false", "0",     "1",     "-1", "2",  "0.5",
        "1.5",  "3",    "129",   "1e400", "\"x\"", "[]", "{}", "-9e18"};
    return std::string(kValues[pick(kValues.size())]);
  }

  std::string model() {
    switch (pick(6)) {
      case 0:
        return any();
      case 1:
        return "\"\"";
      default:
        return "\"gpt-4o-mini\"";
    }
  }

  std::string message() {
    static constexpr std::array<std::string_view, 11> kRoles = {
        "\"user\"",     "\"system\"",     "\"assistant\"",   "\"tool\"",
        "\"function\"", "\"developer\"",  "\"robot\"",       "3",
        "null",         "\"us\\u0065r\"", "\"assistant\\n\""};
    static constexpr std::array<std::string_view, 10> kContents = {
        "\"hi\"",
        "null",
        "[]",
        "[{\"type\":\"text\",\"text\":\"a\"}]",
        "[{\"text\":\"a\"}]",
        "[\"a\"]",
        "7",
        "{}",
        "\"line\\nbreak \\u00e9\"",
        "[{\"t\\u0079pe\":\"text\"},{\"type\":1},3]"};
    if (pick(15) == 0) return any();
    std::vector<std::string> parts;
    if (pick(12) != 0) parts.push_back(strCat("\"role\":", kRoles[pick(kRoles.size())]));
    if (pick(6) != 0) parts.push_back(strCat("\"content\":", kContents[pick(kContents.size())]));
    if (pick(4) == 0) parts.push_back("\"name\":\"n\"");
    std::shuffle(parts.begin(), parts.end(), rng_);
    return joined("{", parts, "}");
  }

  std::string messages() {
    if (pick(12) == 0) return any();
    if (pick(2) == 0) return R"([{"role":"system","content":"s"},{"role":"user","content":"u"}])";
    std::vector<std::string> items(pick(4) + (pick(10) == 0 ? 0 : 1));
    for (std::string& item : items) item = message();
    return joined("[", items, "]");
  }

  std::string valueFor(std::string_view key) {
    if (key == "messages") return messages();
    if (key == "stream_options" && pick(2)) {
      static constexpr std::array<std::string_view, 4> kOptions = {
          "{\"include_usage\":true}", "{\"include_usage\":false}", "{\"include_usage\":1}", "{}"};
      return std::string(kOptions[pick(kOptions.size())]);
    }
    if (key == "extra_body" && pick(2)) {
      return pick(2) ? "{\"api_key\":\"k\"}" : "{\"headers\":{},\"top_k\":3}";
    }
    if (key == "stop" && pick(2)) {
      static constexpr std::array<std::string_view, 4> kStops = {
          "\"x\"", "[\"a\",\"b\"]", "[\"a\",\"b\",\"c\",\"d\",\"e\"]", "[1]"};
      return std::string(kStops[pick(kStops.size())]);
    }
    if (key == "tools" && pick(2)) return "[{\"type\":\"function\"}]";
    if (key == "user" && pick(2)) return "\"u-1\"";
    if ((key == "max_tokens" || key == "max_completion_tokens") && pick(2)) {
      return std::to_string(pick(300));
    }
    return any();
  }

  std::mt19937 rng_;
};

TEST(ChatRequestWalkTest, SameAnswerAsOneLookupPerField) {
  BodyGenerator gen(424242);
  int accepted = 0;
  int forbidden = 0;
  int late_checks = 0;  // errors found after messages: the order is exercised
  for (int i = 0; i < 20000; ++i) {
    const std::string body = gen.body();
    const ApiResult<ChatRequest> got = parseChatRequest(body);
    const ApiResult<reference::ReferenceChatRequest> want =
        reference::parseChatRequestReference(body);
    ASSERT_EQ(got.index(), want.index()) << body;
    if (const auto* e = std::get_if<ApiError>(&want)) {
      const ApiError& g = std::get<ApiError>(got);
      ASSERT_EQ(g.status, e->status) << body;
      ASSERT_EQ(g.code, e->code) << body;
      ASSERT_EQ(g.message, e->message) << body;
      ASSERT_EQ(g.param, e->param) << body;
      forbidden += e->code == "forbidden_parameter" ? 1 : 0;
      late_checks += e->param && !e->param->starts_with("messages") && *e->param != "model" &&
                             e->code != "forbidden_parameter"
                         ? 1
                         : 0;
      continue;
    }
    const ChatRequest& g = std::get<ChatRequest>(got);
    const reference::ReferenceChatRequest& w = std::get<reference::ReferenceChatRequest>(want);
    ASSERT_EQ(g.model, w.model) << body;
    ASSERT_EQ(g.stream, w.stream) << body;
    ASSERT_EQ(g.include_usage, w.include_usage) << body;
    ASSERT_EQ(g.max_tokens, w.max_tokens) << body;
    ASSERT_EQ(g.body(), w.body) << body;
    ++accepted;
  }
  EXPECT_GT(accepted, 1000);
  EXPECT_GT(forbidden, 300);
  EXPECT_GT(late_checks, 1000);
}

}  // namespace
}  // namespace llmgate::proxy::api
