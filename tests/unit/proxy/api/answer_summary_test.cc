#include "proxy/api/answer_summary.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "boost/json/parse.hpp"
#include "boost/json/value.hpp"
#include "common/text/str_cat.h"
#include "proxy/cache/cache.h"

namespace llmgate::proxy::api {
namespace {

namespace json = boost::json;

AnswerSummary summarize(std::string_view text) {
  const AnswerSummaryResult r = summarizeAnswer(text);
  EXPECT_FALSE(r.error) << r.error.message() << " in " << text;
  return r.summary;
}

constexpr std::string_view kOpenAi = R"({
  "id": "chatcmpl-1", "object": "chat.completion", "created": 1733000000, "model": "gpt-4o",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hi"},
               "logprobs": null, "finish_reason": "stop"}],
  "usage": {"prompt_tokens": 120, "completion_tokens": 7, "total_tokens": 127,
            "prompt_tokens_details": {"cached_tokens": 64, "audio_tokens": 0}},
  "system_fingerprint": "fp_1"})";

TEST(AnswerSummary, ReadsAnOpenAiCompletion) {
  const AnswerSummary s = summarize(kOpenAi);
  EXPECT_TRUE(s.is_object);
  EXPECT_TRUE(s.is_completion);
  EXPECT_FALSE(s.has_error);
  EXPECT_EQ(s.choice_count, 1u);
  EXPECT_EQ(s.finishReason(), "stop");
  EXPECT_TRUE(s.storable());
  ASSERT_TRUE(s.usage);
  EXPECT_EQ(s.usage->prompt_tokens, 120u);
  EXPECT_EQ(s.usage->completion_tokens, 7u);
  EXPECT_EQ(s.usage->cached_prompt_tokens, 64u);
  EXPECT_EQ(s.created, 1733000000);
}

TEST(AnswerSummary, DeepSeekCacheHitTokensAndClamping) {
  AnswerSummary s = summarize(
      R"({"object":"chat.completion","choices":[],"usage":{"prompt_tokens":10,
          "completion_tokens":3,"prompt_cache_hit_tokens":8,"prompt_cache_miss_tokens":2}})");
  ASSERT_TRUE(s.usage);
  EXPECT_EQ(s.usage->cached_prompt_tokens, 8u);
  EXPECT_FALSE(s.storable()) << "no choices";
  // max(details, hit), then at most prompt_tokens.
  s = summarize(
      R"({"usage":{"prompt_tokens":10,"prompt_cache_hit_tokens":4,
          "prompt_tokens_details":{"cached_tokens":50}}})");
  EXPECT_EQ(s.usage->cached_prompt_tokens, 10u);
}

TEST(AnswerSummary, NegativeFractionalAndWrongTypedCountsAreZero) {
  const AnswerSummary s = summarize(
      R"({"usage":{"prompt_tokens":-5,"completion_tokens":2.0,
          "prompt_tokens_details":{"cached_tokens":"3"}},"created":"yesterday"})");
  ASSERT_TRUE(s.usage);
  EXPECT_EQ(s.usage->prompt_tokens, 0u);
  EXPECT_EQ(s.usage->completion_tokens, 0u);
  EXPECT_EQ(s.usage->cached_prompt_tokens, 0u);
  EXPECT_EQ(s.created, 0);
  EXPECT_EQ(summarize(R"({"usage":{"prompt_tokens":18446744073709551615}})").usage->prompt_tokens,
            18446744073709551615u);
  EXPECT_FALSE(summarize(R"({"usage":null})").usage);
  EXPECT_FALSE(summarize(R"({"usage":[1]})").usage);
  EXPECT_FALSE(summarize(R"({"id":"x"})").usage);
}

TEST(AnswerSummary, UsageInsideChoicesIsNotTheAnswersUsage) {
  const AnswerSummary s = summarize(
      R"({"choices":[{"usage":{"prompt_tokens":99},"message":{"usage":{"prompt_tokens":98}},
          "finish_reason":"stop"}],"x":{"usage":{"prompt_tokens":97}},
          "y":[{"usage":{"prompt_tokens":96}}]})");
  EXPECT_FALSE(s.usage);
  EXPECT_EQ(s.finishReason(), "stop");
}

TEST(AnswerSummary, FinishReasonIsTheFirstChoices) {
  AnswerSummary s = summarize(
      R"({"object":"chat.completion","choices":[{"message":{},"finish_reason":"stop"},
          {"message":{},"finish_reason":"length"}]})");
  EXPECT_EQ(s.finishReason(), "stop");
  EXPECT_EQ(s.choice_count, 2u);
  EXPECT_FALSE(s.storable()) << "the second choice was cut";
  s = summarize(R"({"choices":[{"finish_reason":null},{"finish_reason":"stop"}]})");
  EXPECT_EQ(s.finishReason(), "");
  s = summarize(R"({"choices":["stop",{"finish_reason":"stop"}]})");
  EXPECT_EQ(s.finishReason(), "");
  s = summarize(R"({"choices":{"finish_reason":"stop"}})");
  EXPECT_EQ(s.finishReason(), "");
  EXPECT_FALSE(s.choices_is_array);
  s = summarize(R"({"choices":[{"finish_reason":"insufficient_system_resource"}]})");
  EXPECT_EQ(s.finishReason(), "insufficient_system_resource");
}

TEST(AnswerSummary, StorageContract) {
  const auto storable = [](std::string_view text) { return summarize(text).storable(); };
  EXPECT_TRUE(storable(
      R"({"object":"chat.completion","choices":[{"message":{},"finish_reason":"tool_calls"},
          {"message":{"content":null},"finish_reason":"function_call"}]})"));
  EXPECT_FALSE(storable(R"({"object":"chat.completion.chunk",
      "choices":[{"message":{},"finish_reason":"stop"}]})"));
  EXPECT_FALSE(storable(R"({"choices":[{"message":{},"finish_reason":"stop"}]})"));
  EXPECT_FALSE(storable(R"({"object":"chat.completion","error":null,
      "choices":[{"message":{},"finish_reason":"stop"}]})"));
  EXPECT_FALSE(storable(R"({"object":"chat.completion",
      "choices":[{"message":"hi","finish_reason":"stop"}]})"));
  EXPECT_FALSE(storable(R"({"object":"chat.completion","choices":[{"finish_reason":"stop"}]})"));
  EXPECT_FALSE(storable(R"({"object":"chat.completion",
      "choices":[{"message":{},"finish_reason":"content_filter"}]})"));
  EXPECT_FALSE(storable(R"({"object":"chat.completion","choices":[[]]})"));
  EXPECT_FALSE(storable(R"({"object":"chat.completion","choices":[]})"));
}

TEST(AnswerSummary, DuplicateKeysTakeTheLastAsTheDomDoes) {
  AnswerSummary s = summarize(
      R"({"object":"chat.completion","choices":[{"message":{},"finish_reason":"stop"}],
          "usage":{"prompt_tokens":5},"usage":{"completion_tokens":6},"created":1,"created":2})");
  EXPECT_TRUE(s.storable());
  EXPECT_EQ(s.usage->prompt_tokens, 0u);
  EXPECT_EQ(s.usage->completion_tokens, 6u);
  EXPECT_EQ(s.created, 2);
  s = summarize(
      R"({"object":"chat.completion","choices":[{"message":{},"finish_reason":"stop"}],
          "choices":[{"message":{},"finish_reason":"length"}]})");
  EXPECT_EQ(s.finishReason(), "length");
  EXPECT_FALSE(s.storable());
  s = summarize(
      R"({"object":"chat.completion","choices":[{"message":{},"finish_reason":"length",
          "finish_reason":"stop","message":{}}],"object":"chat.completion"})");
  EXPECT_EQ(s.finishReason(), "stop");
  EXPECT_TRUE(s.storable());
  s = summarize(R"({"object":"chat.completion","object":"x",
      "choices":[{"message":{},"finish_reason":"stop","finish_reason":7}]})");
  EXPECT_FALSE(s.is_completion);
  EXPECT_EQ(s.finishReason(), "");
  s = summarize(R"({"usage":{"prompt_tokens":5},"usage":null})");
  EXPECT_FALSE(s.usage);
}

TEST(AnswerSummary, EscapedAndLongStrings) {
  // Keys and values are compared decoded, as a DOM compares them.
  AnswerSummary s = summarize(
      R"({"\u006fbject":"chat.\u0063ompletion","choices":[{"message":{},
          "finish_\u0072eason":"st\u006fp"}],"\u0075sage":{"prompt_tokens":4}})");
  EXPECT_TRUE(s.storable());
  EXPECT_EQ(s.finishReason(), "stop");
  EXPECT_EQ(s.usage->prompt_tokens, 4u);
  // Escaped strings longer than the parser's stack buffer arrive in parts.
  const std::string long_reason = std::string(5000, 'x') + "\\n";
  s = summarize(R"({"choices":[{"message":{},"finish_reason":")" + long_reason + R"("}]})");
  EXPECT_EQ(s.finishReason(), std::string(AnswerSummary::kMaxFinishReason, 'x'));
  EXPECT_FALSE(s.storable());
  s = summarize(R"({"object":"chat.completion)" + long_reason + R"(","choices":[]})");
  EXPECT_FALSE(s.is_completion);
  const std::string long_key = std::string(5000, 'k') + "\\t";
  s = summarize(R"({")" + long_key + R"(":{"prompt_tokens":1},"usage":{"prompt_tokens":2}})");
  EXPECT_EQ(s.usage->prompt_tokens, 2u);
}

TEST(AnswerSummary, NonObjectTopLevelIsNotAnError) {
  for (std::string_view text : {"[]", "[{\"usage\":{}}]", "\"chat.completion\"", "3", "null"}) {
    const AnswerSummaryResult r = summarizeAnswer(text);
    EXPECT_FALSE(r.error) << text;
    EXPECT_FALSE(r.summary.is_object) << text;
    EXPECT_FALSE(r.summary.usage) << text;
    EXPECT_FALSE(r.summary.storable()) << text;
  }
}

TEST(AnswerSummary, InvalidJsonFailsWithTheDomParsersError) {
  const std::string deep = std::string(33, '[') + std::string(33, ']');
  const std::string ok_depth = "{\"a\":" + std::string(31, '[') + std::string(31, ']') + "}";
  for (const std::string& text :
       {std::string(""), std::string("{"), std::string("{\"a\":1,}"), std::string("{} x"),
        std::string("{}{}"), std::string("{\"a\":NaN}"), std::string("{\"a\":\"\xff\"}"),
        std::string("{\"a\":1} // c"), std::string("{'a':1}"), deep, ok_depth}) {
    boost::system::error_code dom_ec;
    json::parse(text, dom_ec);
    const AnswerSummaryResult r = summarizeAnswer(text);
    EXPECT_EQ(r.error, dom_ec) << text << ": " << r.error.message() << " vs " << dom_ec.message();
  }
  EXPECT_TRUE(summarizeAnswer(deep).error);
  EXPECT_FALSE(summarizeAnswer(ok_depth).error);
}

// The DOM reading the summary replaces (chat_completions_handler.cc's
// finishReason, api::usageOf, cache::isStorableCompletion, `created`).
struct DomFacts {
  bool is_object = false;
  bool storable = false;
  std::optional<Usage> usage;
  std::string finish_reason;
  std::int64_t created = 0;
};
DomFacts domFacts(const json::value& v) {
  DomFacts f;
  if (!v.is_object()) return f;
  const json::object& o = v.get_object();
  f.is_object = true;
  f.storable = cache::isStorableCompletion(o);
  f.usage = usageOf(o);
  if (const auto* choices = o.if_contains("choices"); choices && choices->is_array() &&
                                                      !choices->get_array().empty() &&
                                                      choices->get_array().front().is_object()) {
    const auto* reason = choices->get_array().front().get_object().if_contains("finish_reason");
    if (reason && reason->is_string()) f.finish_reason = std::string(reason->get_string());
  }
  if (const auto* created = o.if_contains("created")) {
    if (created->is_int64()) f.created = created->get_int64();
    if (created->is_uint64()) f.created = static_cast<std::int64_t>(created->get_uint64());
  }
  return f;
}

// Random answers built from the keys and values that matter, with
// duplicates, wrong types, escapes, nesting and the odd syntax error.
class AnswerGenerator {
 public:
  explicit AnswerGenerator(std::uint32_t seed) : rng_(seed) {}

  std::string document() {
    if (pick(20) == 0) return scalar();
    std::string out = pick(3) == 0 ? completion() : object(0, kTopKeys);
    if (pick(25) == 0) out.insert(pick(static_cast<int>(out.size())), 1, ",]}\"x"[pick(5)]);
    return out;
  }

 private:
  static constexpr std::array<std::string_view, 7> kTopKeys = {
      "object", "choices", "usage", "created", "error", "id", "model"};
  static constexpr std::array<std::string_view, 5> kChoiceKeys = {"finish_reason", "message",
                                                                  "index", "usage", "choices"};
  static constexpr std::array<std::string_view, 6> kUsageKeys = {
      "prompt_tokens",           "completion_tokens", "prompt_tokens_details",
      "prompt_cache_hit_tokens", "cached_tokens",     "usage"};
  static constexpr std::array<std::string_view, 10> kStrings = {"chat.completion",
                                                                "stop",
                                                                "length",
                                                                "tool_calls",
                                                                "function_call",
                                                                "content_filter",
                                                                "st\\u006fp",
                                                                "",
                                                                "chat.completion.chunk",
                                                                "insufficient_system_resource"};

  // Close to a real answer (so that storable ones come up), then random
  // members (duplicates included) before and after.
  std::string completion() {
    std::string choices = "[";
    const int n = 1 + pick(3);
    for (int i = 0; i < n; ++i) {
      if (i) choices += ',';
      choices += strCat(R"({"index":)", i, R"(,"message":{"role":"assistant","content":"x"},)",
                        R"("finish_reason":")", kStrings[pick(5)], "\"}");
    }
    std::string out = strCat(R"({"object":"chat.completion","choices":)", choices, "]");
    for (int i = pick(3); i > 0; --i) {
      const std::string_view name = kTopKeys[pick(kTopKeys.size())];
      out += strCat(",", quoted(name), ":", value(1, name));
    }
    return out + "}";
  }

  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }

  std::string scalar() {
    switch (pick(9)) {
      case 0:
        return "null";
      case 1:
        return pick(2) ? "true" : "false";
      case 2:
        return std::to_string(pick(200) - 50);
      case 3:
        return "18446744073709551615";
      case 4:
        return "1.5";
      case 5:
        return "7e2";
      default:
        return strCat("\"", kStrings[pick(kStrings.size())], "\"");
    }
  }

  // A value for `key` (unescaped name): mostly the type that key should
  // have, so that complete answers come up too, else anything.
  std::string value(int depth, std::string_view key) {
    if (depth > 4) return scalar();
    const bool typed = pick(4) != 0;
    if (typed && key == "choices") return array(depth, true);
    if (typed && (key == "message" || key == "usage" || key == "prompt_tokens_details")) {
      return key == "message" ? object(depth + 1, kChoiceKeys) : object(depth + 1, kUsageKeys);
    }
    if (typed && (key == "object" || key == "finish_reason")) {
      return strCat("\"", kStrings[pick(6)], "\"");
    }
    switch (pick(8)) {
      case 0:
        return object(depth + 1, kChoiceKeys);
      case 1:
        return object(depth + 1, kUsageKeys);
      case 2:
        return object(depth + 1, kTopKeys);
      case 3:
      case 4:
        return array(depth, false);
      default:
        return scalar();
    }
  }

  std::string array(int depth, bool of_choices) {
    std::string out = "[";
    const int n = pick(4);
    for (int i = 0; i < n; ++i) {
      if (i) out += ',';
      out += of_choices || pick(3) ? object(depth + 1, kChoiceKeys) : value(depth + 1, "");
    }
    return out + "]";
  }

  template <std::size_t N>
  std::string object(int depth, const std::array<std::string_view, N>& keys) {
    std::string out = "{";
    const int n = pick(7);
    for (int i = 0; i < n; ++i) {
      if (i) out += pick(4) ? "," : " ,\n ";
      const std::string_view name = keys[pick(N)];
      out += strCat(quoted(name), ":", value(depth, name));
    }
    return out + "}";
  }

  std::string quoted(std::string_view name) {
    std::string k(name);
    if (pick(10) == 0 && !k.empty()) {  // at the start or inside (the parser then splits it)
      const std::size_t at = pick(static_cast<int>(k.size()));
      k.replace(at, 1, "\\u00" + hex(k[at]));
    }
    return strCat("\"", k, "\"");
  }
  static std::string hex(char c) {
    static constexpr char kDigits[] = "0123456789abcdef";
    return {kDigits[(c >> 4) & 15], kDigits[c & 15]};
  }

  std::mt19937 rng_;
};

TEST(AnswerSummary, AgreesWithTheDomOnRandomAnswers) {
  AnswerGenerator gen(20261124);
  int parsed = 0;
  int storable = 0;
  int with_usage = 0;
  for (int i = 0; i < 10000; ++i) {
    const std::string text = gen.document();
    boost::system::error_code dom_ec;
    const json::value dom = json::parse(text, dom_ec);
    const AnswerSummaryResult r = summarizeAnswer(text);
    ASSERT_EQ(r.error, dom_ec) << text;
    if (dom_ec) continue;
    ++parsed;
    const DomFacts want = domFacts(dom);
    const AnswerSummary& got = r.summary;
    ASSERT_EQ(got.is_object, want.is_object) << text;
    ASSERT_EQ(got.storable(), want.storable) << text;
    ASSERT_EQ(got.finishReason(), want.finish_reason) << text;
    ASSERT_EQ(got.created, want.created) << text;
    ASSERT_EQ(got.usage.has_value(), want.usage.has_value()) << text;
    if (want.usage) {
      ASSERT_EQ(got.usage->prompt_tokens, want.usage->prompt_tokens) << text;
      ASSERT_EQ(got.usage->completion_tokens, want.usage->completion_tokens) << text;
      ASSERT_EQ(got.usage->cached_prompt_tokens, want.usage->cached_prompt_tokens) << text;
      ++with_usage;
    }
    storable += want.storable ? 1 : 0;
  }
  // The generator must exercise every outcome, or the comparison proves little.
  EXPECT_GT(parsed, 7500);
  EXPECT_GT(storable, 300);
  EXPECT_GT(with_usage, 1000);
}

}  // namespace
}  // namespace llmgate::proxy::api
