#include "proxy/routing/token_estimator.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "boost/json/parse.hpp"

namespace llmgate::proxy::routing {
namespace {

std::string repeatTo(std::string_view unit, std::size_t chars_wanted, std::size_t unit_chars) {
  std::string out;
  for (std::size_t n = 0; n + unit_chars <= chars_wanted; n += unit_chars) out.append(unit);
  return out;
}

boost::json::object chatOf(std::string_view text) {
  boost::json::object b;
  boost::json::array messages;
  messages.push_back(boost::json::object{{"role", "user"}, {"content", text}});
  b["messages"] = std::move(messages);
  return b;
}

TEST(ScriptTest, ClassifiesScalars) {
  EXPECT_EQ(scriptOf(U'a'), Script::kLatin);
  EXPECT_EQ(scriptOf(U'é'), Script::kLatin);
  EXPECT_EQ(scriptOf(U'{'), Script::kCode);
  EXPECT_EQ(scriptOf(U'7'), Script::kCode);
  EXPECT_EQ(scriptOf(U' '), Script::kWhitespace);
  EXPECT_EQ(scriptOf(U'中'), Script::kCjk);
  EXPECT_EQ(scriptOf(U'カ'), Script::kCjk);
  EXPECT_EQ(scriptOf(U'한'), Script::kCjk);
  EXPECT_EQ(scriptOf(U'Ж'), Script::kCyrillic);
  EXPECT_EQ(scriptOf(U'ع'), Script::kArabic);
  EXPECT_EQ(scriptOf(U'क'), Script::kDevanagari);
  EXPECT_EQ(scriptOf(U'ก'), Script::kThai);
  EXPECT_EQ(scriptOf(U'😀'), Script::kSymbol);
}

TEST(ScriptTest, CountsScalarsNotBytesAndSurvivesBadUtf8) {
  ScriptCounts c;
  c.add("中文abc \xFF\xE4");  // 0xFF invalid, 0xE4 truncated
  EXPECT_EQ(c.chars[static_cast<std::size_t>(Script::kCjk)], 2u);
  EXPECT_EQ(c.chars[static_cast<std::size_t>(Script::kLatin)], 3u);
  EXPECT_EQ(c.chars[static_cast<std::size_t>(Script::kOther)], 2u);
  EXPECT_EQ(c.total(), 8u);
}

TEST(ScriptTest, Dominant) {
  ScriptCounts zh;
  zh.add("这是一个中文句子, ok");
  EXPECT_EQ(zh.dominant(), Script::kCjk);
  ScriptCounts mixed;
  mixed.add("abcd 中文字符");
  EXPECT_EQ(mixed.dominant(), std::nullopt);
}

TEST(TokenEstimateTest, EnglishThousandCharsIs200To300) {
  const std::string text = repeatTo("The quick brown fox jumps over the lazy dog. ", 1000, 45);
  const double t = estimateTextTokens(text) * 1000 / text.size();
  EXPECT_GE(t, 200);
  EXPECT_LE(t, 300);
}

TEST(TokenEstimateTest, ChineseThousandCharsIs600To1100) {
  const std::string unit = "我们今天在北京开会讨论新产品的发布计划。";  // 20 scalars
  const std::string text = repeatTo(unit, 1000, 20);
  const double t = estimateTextTokens(text);
  EXPECT_GE(t, 600);
  EXPECT_LE(t, 1100);
}

TEST(TokenEstimateTest, OtherScriptsAreSane) {
  // Per 1000 characters, between the published/measured extremes.
  auto per1k = [](std::string_view unit, std::size_t unit_chars) {
    const std::string text = repeatTo(unit, 1000, unit_chars);
    ScriptCounts c;
    c.add(text);
    return estimateTextTokens(text) * 1000 / static_cast<double>(c.total());
  };
  const double ru = per1k("Быстрая коричневая лиса прыгает через ленивую собаку. ", 54);
  EXPECT_GE(ru, 200);
  EXPECT_LE(ru, 450);
  const double code = per1k("for (int i = 0; i < n; ++i) { sum += v[i]; }\n", 45);
  EXPECT_GE(code, 250);
  EXPECT_LE(code, 450);
  const double hi = per1k("यह एक छोटा वाक्य है। ", 21);
  EXPECT_GE(hi, 300);
  EXPECT_LE(hi, 1000);
  const double ar = per1k("هذه جملة قصيرة باللغة العربية. ", 31);
  EXPECT_GE(ar, 250);
  EXPECT_LE(ar, 700);
  const double th = per1k("นี่คือประโยคภาษาไทย ", 20);
  EXPECT_GE(th, 300);
  EXPECT_LE(th, 1000);
}

TEST(TokenEstimateTest, PromptIncludesOverheadToolsAndParts) {
  const auto empty = estimatePrompt(boost::json::object{});
  EXPECT_DOUBLE_EQ(empty.tokens, 3);
  const auto b = boost::json::parse(R"({"messages":[
      {"role":"system","content":"be brief"},
      {"role":"user","content":[{"type":"text","text":"hello there"},{"type":"image_url"}]}],
      "tools":[{"type":"function","function":{"name":"get_weather"}}]})")
                     .as_object();
  const auto e = estimatePrompt(b);
  EXPECT_GT(e.tokens,
            3 + 2 * 4 + estimateTextTokens("be brief") + estimateTextTokens("hello there"));
}

// Exactly what is counted: message content (strings and text parts), names
// (+1 token each), tool calls, tools and a JSON schema, serialized; 4 tokens
// per message and 3 for the reply; nothing else (not roles, not other keys).
TEST(TokenEstimateTest, PromptCountsExactlyTheTextItReads) {
  const auto b = boost::json::parse(R"({"model":"m","messages":[
      {"role":"system","content":"be brief","extra":"not counted"},
      {"content":[{"type":"text","text":"hello there"},{"type":"image_url","text":7}],"role":"user"},
      {"role":"assistant","name":"bot","content":null,
       "tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
      "not a message"],
      "tools":[{"type":"function","function":{"name":"get_weather"}}],
      "response_format":{"type":"json_schema","json_schema":{"name":"s","schema":{}}},
      "user":"not counted"})")
                     .as_object();
  ScriptCounts want;
  for (std::string_view text :
       {std::string_view("be brief"), std::string_view("hello there"), std::string_view("bot"),
        std::string_view(
            R"([{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}])"),
        std::string_view(R"([{"type":"function","function":{"name":"get_weather"}}])"),
        std::string_view(R"({"name":"s","schema":{}})")}) {
    want.addScalar(text);
  }
  const PromptEstimate e = estimatePrompt(b);
  EXPECT_EQ(e.scripts.chars, want.chars);
  double tokens = 3 + 3 * 4 + 1;
  for (std::size_t i = 0; i < kScriptCount; ++i) {
    tokens += static_cast<double>(want.chars[i]) * tokensPerChar(static_cast<Script>(i));
  }
  EXPECT_DOUBLE_EQ(e.tokens, tokens);
}

TEST(TokenEstimatorTest, UncalibratedModelUsesRatioOne) {
  TokenEstimator est;
  const auto body = chatOf("Hello world, how are you doing today?");
  EXPECT_EQ(est.ratio("m"), 1.0);
  EXPECT_EQ(est.estimate("m", body),
            static_cast<std::uint64_t>(std::ceil(estimatePrompt(body).tokens)));
}

TEST(TokenEstimatorTest, CalibrationConvergesOnObservedRatio) {
  TokenEstimator est(0.1);
  const auto body = chatOf(repeatTo("Some English prose to be tokenized. ", 2000, 36));
  const PromptEstimate raw = estimatePrompt(body);
  // The "provider" counts 1.4x our raw estimate for model a, 0.7x for model b.
  for (int i = 0; i < 100; ++i) {
    est.observe("a", raw.tokens, static_cast<std::uint64_t>(raw.tokens * 1.4));
    est.observe("b", raw.tokens, static_cast<std::uint64_t>(raw.tokens * 0.7));
  }
  EXPECT_NEAR(est.ratio("a"), 1.4, 0.02);
  EXPECT_NEAR(est.ratio("b"), 0.7, 0.02);
  EXPECT_NEAR(static_cast<double>(est.estimate("a", body)), raw.tokens * 1.4, raw.tokens * 0.03);
  EXPECT_EQ(est.ratio("c"), 1.0);
}

TEST(TokenEstimatorTest, RatioIsClampedAndTinyPromptsIgnored) {
  TokenEstimator est(0.5);
  for (int i = 0; i < 50; ++i) est.observe("m", 100, 1000);
  EXPECT_NEAR(est.ratio("m"), 2.0, 1e-9);
  for (int i = 0; i < 50; ++i) est.observe("m", 100, 10);
  EXPECT_NEAR(est.ratio("m"), 0.5, 1e-9);
  est.observe("tiny", 3, 100);
  est.observe("tiny", 100, 2);
  EXPECT_EQ(est.ratio("tiny"), 1.0);
}

TEST(TokenEstimatorTest, PerScriptRatioOverridesModelRatio) {
  TokenEstimator est(1.0);
  est.observe("m", 100, 150, Script::kCjk);
  est.observe("m", 100, 90, Script::kLatin);
  EXPECT_DOUBLE_EQ(est.ratio("m", Script::kCjk), 1.5);
  EXPECT_DOUBLE_EQ(est.ratio("m", Script::kLatin), 0.9);
  EXPECT_DOUBLE_EQ(est.ratio("m", Script::kArabic), 0.9);  // falls back to the model ratio
  EXPECT_DOUBLE_EQ(est.ratio("m"), 0.9);
}

TEST(TokenEstimatorTest, UsdPer1kChars) {
  TokenEstimator est(1.0);
  config::ModelConfig m{.name = "deepseek-v3", .price_per_mtok = {.input = 0.14, .output = 0.42}};
  // 1000 CJK chars * 0.7 tok/char * $0.14/M
  EXPECT_NEAR(est.usdPer1kChars(m, Script::kCjk), 700 * 0.14 / 1e6, 1e-12);
  est.observe("deepseek-v3", 100, 200, Script::kCjk);
  EXPECT_NEAR(est.usdPer1kChars(m, Script::kCjk), 1400 * 0.14 / 1e6, 1e-12);
  EXPECT_LT(est.usdPer1kChars(m, Script::kLatin), est.usdPer1kChars(m, Script::kCjk));
}

TEST(TokenEstimatorTest, ConcurrentObserversAndManyModels) {
  TokenEstimator est(0.05);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&est, t] {
      for (int i = 0; i < 20000; ++i) {
        est.observe("shared", 1000, 1200);
        est.observe("model-" + std::to_string((t * 97 + i) % 300), 1000, 800);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_NEAR(est.ratio("shared"), 1.2, 1e-9);
  // 300 names, 256 slots: the first 256 are tracked, the rest stay at 1.
  int tracked = 0;
  for (int i = 0; i < 300; ++i) tracked += est.ratio("model-" + std::to_string(i)) != 1.0;
  EXPECT_EQ(tracked, static_cast<int>(TokenEstimator::kMaxModels) - 1);
}

}  // namespace
}  // namespace llmgate::proxy::routing

namespace llmgate::proxy::routing {
namespace {

TEST(ObservedCostTest, UsdPer1kCharsPerModelAndScript) {
  TokenEstimator e;
  EXPECT_FALSE(e.observedUsdPer1kChars("m", Script::kCjk));
  e.observeCost("m", Script::kCjk, 500, 0.001);
  e.observeCost("m", Script::kCjk, 1500, 0.003);
  e.observeCost("m", Script::kLatin, 1000, 0.0005);
  ASSERT_TRUE(e.observedUsdPer1kChars("m", Script::kCjk));
  EXPECT_NEAR(*e.observedUsdPer1kChars("m", Script::kCjk), 0.002, 1e-12);
  EXPECT_NEAR(*e.observedUsdPer1kChars("m", Script::kLatin), 0.0005, 1e-12);
  EXPECT_FALSE(e.observedUsdPer1kChars("m", Script::kThai));
  EXPECT_FALSE(e.observedUsdPer1kChars("other", Script::kCjk));
  e.observeCost("m", Script::kThai, 0, 1.0);  // no characters: ignored
  EXPECT_FALSE(e.observedUsdPer1kChars("m", Script::kThai));
}

// The ASCII lookup table of ScriptCounts::add agrees with scriptOf() for
// every byte, also in a mixed ASCII / non-ASCII string.
TEST(ScriptCountsTest, AsciiFastPathAgreesWithScriptOf) {
  for (char32_t c = 0; c < 128; ++c) {
    ScriptCounts counts;
    counts.add(std::string(1, static_cast<char>(c)));
    ScriptCounts expected;
    ++expected.chars[static_cast<std::size_t>(scriptOf(c))];
    EXPECT_EQ(counts.chars, expected.chars) << "byte " << static_cast<int>(c);
  }
  ScriptCounts mixed;
  mixed.add(
      "ab \xe4\xb8\xad"
      "1\xd0\xb6!");  // a b space 中 1 ж !
  EXPECT_EQ(mixed.chars[static_cast<std::size_t>(Script::kLatin)], 2u);
  EXPECT_EQ(mixed.chars[static_cast<std::size_t>(Script::kWhitespace)], 1u);
  EXPECT_EQ(mixed.chars[static_cast<std::size_t>(Script::kCjk)], 1u);
  EXPECT_EQ(mixed.chars[static_cast<std::size_t>(Script::kCode)], 2u);
  EXPECT_EQ(mixed.chars[static_cast<std::size_t>(Script::kCyrillic)], 1u);
}

// add() (16 bytes at a time with SSE2) must count exactly what the
// byte-at-a-time addScalar() counts, whatever the mix of ASCII, UTF-8 and
// invalid bytes and wherever the 16-byte blocks and the string's end fall.
void expectSameCounts(std::string_view text) {
  ScriptCounts fast;
  fast.add(text);
  ScriptCounts scalar;
  scalar.addScalar(text);
  ASSERT_EQ(fast.chars, scalar.chars) << "length " << text.size();
}

TEST(ScriptCountsTest, VectorAndScalarAgreeOnEveryAsciiByteAtEveryPosition) {
  for (std::size_t length = 0; length <= 40; ++length) {
    for (int c = 0; c < 128; ++c) {
      for (std::size_t at = 0; at < length; ++at) {
        std::string text(length, 'a');
        text[at] = static_cast<char>(c);
        expectSameCounts(text);
        text.assign(length, static_cast<char>(c));  // the whole run of one byte
        expectSameCounts(text);
      }
    }
  }
  std::string all;
  for (int c = 0; c < 128; ++c) all += static_cast<char>(c);
  expectSameCounts(all);
  ScriptCounts counts;
  counts.add(all);
  EXPECT_EQ(counts.chars[static_cast<std::size_t>(Script::kLatin)], 52u);
  EXPECT_EQ(counts.chars[static_cast<std::size_t>(Script::kWhitespace)], 34u);
  EXPECT_EQ(counts.chars[static_cast<std::size_t>(Script::kCode)], 42u);
}

TEST(ScriptCountsTest, VectorAndScalarAgreeOnRandomMixedText) {
  // Pieces: ASCII of every class, 2-, 3- and 4-byte UTF-8, invalid and
  // truncated sequences, and a lone non-ASCII byte.
  const std::vector<std::string> pieces = {"a",
                                           "Z",
                                           " ",
                                           "\t",
                                           "\x7f",
                                           "{",
                                           "7",
                                           "@",
                                           "[",
                                           "`",
                                           "~",
                                           "\x01",
                                           "\xc3\xa9",
                                           "\xd0\xb6",
                                           "\xe4\xb8\xad",
                                           "\xe3\x82\xab",
                                           "\xf0\x9f\x98\x80",
                                           "\xff",
                                           "\xe4",
                                           "\xe4\xb8",
                                           "\xc3",
                                           "\x80",
                                           "\xf0\x9f",
                                           "\xc2\xa0"};
  std::mt19937 rng(7);
  for (int round = 0; round < 20000; ++round) {
    const std::size_t length = round < 15000 ? rng() % 41 : rng() % 700;
    // Mostly ASCII (as prompts are), sometimes mostly not.
    const unsigned ascii_share = rng() % 4 == 0 ? 2 : 9;
    std::string text;
    while (text.size() < length) {
      const std::size_t k =
          rng() % 10 < ascii_share ? rng() % 12 : 12 + rng() % (pieces.size() - 12);
      text += pieces[k];
    }
    expectSameCounts(text);
  }
  // Long ASCII runs: the per-lane byte counters are flushed before they wrap.
  for (std::size_t length : {4079u, 4080u, 4081u, 4096u, 10000u}) {
    std::string text;
    for (std::size_t i = 0; i < length; ++i) text += "ab c1"[i % 5];
    expectSameCounts(text);
    text[length / 2] = '\xe4';
    expectSameCounts(text);
  }
}

}  // namespace
}  // namespace llmgate::proxy::routing
