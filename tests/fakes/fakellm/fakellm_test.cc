// Unit tests of fakellm's pure logic: answers, usage, wire shapes, behaviours.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/beast/http/fields.hpp>
#include <boost/json.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "tests/fakes/fakellm/answer.h"
#include "tests/fakes/fakellm/behaviour.h"
#include "tests/fakes/fakellm/chat_request.h"
#include "tests/fakes/fakellm/completion.h"
#include "tests/fakes/fakellm/dialect.h"
#include "tests/fakes/fakellm/embeddings.h"
#include "tests/fakes/fakellm/errors.h"
#include "tests/fakes/fakellm/options.h"
#include "tests/fakes/fakellm/prompt_cache.h"
#include "tests/fakes/fakellm/stats.h"
#include "tests/fakes/fakellm/timing.h"

namespace llmgate::fakellm {
namespace {

namespace json = boost::json;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

ChatRequest read(const json::value& body, Dialect dialect = Dialect::kOpenAi, bool strict = true) {
  return readChatRequest(body, dialect, strict);
}

// Builds the completion a server would send for `body_text` (kept alive in `storage`).
Completion complete(const std::string& body_text, Dialect dialect, json::value& storage,
                    const Behaviour& b = {}, int64_t cached = 0) {
  storage = json::parse(body_text);
  const ChatRequest req = read(storage, dialect);
  EXPECT_FALSE(req.invalid.has_value()) << (req.invalid ? req.invalid->message : "");
  Rng rng(7);
  CompletionInputs inputs;
  inputs.id = newCompletionId(dialect, rng);
  inputs.created = 1700000000;
  inputs.cached_tokens = cached;
  return makeCompletion(req, dialect, b, inputs, rng);
}

// The JSON payloads of the `data:` lines of an SSE stream ([DONE] excluded).
std::vector<json::value> dataEvents(const StreamScript& s) {
  std::vector<json::value> out;
  for (size_t i = 0; i < s.events.size(); ++i) {
    std::string_view e = s.event(i);
    const size_t at = e.find("data: ");
    EXPECT_NE(at, std::string_view::npos) << e;
    EXPECT_TRUE(e.ends_with("\n\n")) << e;
    std::string_view data = e.substr(at + 6, e.size() - at - 8);
    if (data == "[DONE]") continue;
    out.push_back(json::parse(data));
  }
  return out;
}

constexpr const char* kHello =
    R"({"model":"gpt-4o-mini","messages":[{"role":"system","content":"Be brief."},)"
    R"({"role":"user","content":"Hello there"}]})";

// ---------------------------------------------------------------- answers

TEST(AnswerTest, SameMessagesSameWordsWhateverTheJsonLayout) {
  json::value a = json::parse(kHello);
  json::value b = json::parse(
      R"({ "messages" : [ {"content":"Be brief.","role":"system"},
           {"content":"Hello there","role":"user"} ], "model":"other", "temperature":0 })");
  EXPECT_EQ(read(a).content_hash, read(b).content_hash);
  json::value c =
      json::parse(R"({"model":"m","messages":[{"role":"user","content":"Hello there!"}]})");
  EXPECT_NE(read(a).content_hash, read(c).content_hash);
  EXPECT_EQ(answerWords(42, 24), answerWords(42, 24));
  EXPECT_NE(answerWords(42, 24), answerWords(43, 24));
  EXPECT_EQ(answerWords(42, 24).size(), 24u);
  EXPECT_TRUE(answerWords(42, 0).empty());
}

TEST(AnswerTest, ContentPartsCountAsText) {
  json::value a = json::parse(
      R"({"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"Hello "},)"
      R"({"type":"text","text":"there"}]}]})");
  json::value b =
      json::parse(R"({"model":"m","messages":[{"role":"user","content":"Hello there"}]})");
  EXPECT_EQ(read(a).content_hash, read(b).content_hash);
  EXPECT_EQ(read(a).last_user_text, "Hello there");
}

TEST(AnswerTest, PromptTokensAreCharsOverFourPlusFourPerMessage) {
  json::value v = json::parse(kHello);
  // "Be brief." 9 chars -> 3 + 4; "Hello there" 11 chars -> 3 + 4.
  EXPECT_EQ(read(v).prompt_tokens, 14);
  EXPECT_EQ(messageTokens("你好"), 1 + 4);  // code points, not bytes
}

TEST(AnswerTest, MaxTokensCapsTheAnswerAndSaysLength) {
  json::value storage;
  Completion c =
      complete(R"({"model":"m","max_tokens":5,"messages":[{"role":"user","content":"hi"}]})",
               Dialect::kOpenAi, storage);
  EXPECT_EQ(c.words.size(), 5u);
  EXPECT_EQ(c.finish_reason, "length");
  EXPECT_EQ(c.completionTokens(), 5);

  c = complete(R"({"model":"m","max_tokens":5,"max_completion_tokens":30,)"
               R"("messages":[{"role":"user","content":"hi"}]})",
               Dialect::kOpenAi, storage);
  EXPECT_EQ(c.words.size(), 24u);  // max_completion_tokens wins for OpenAI
  EXPECT_EQ(c.finish_reason, "stop");
}

TEST(AnswerTest, BehaviourSetsWordsAndFinishReason) {
  json::value storage;
  Behaviour b;
  b.answer_words = 3;
  b.finish_reason = "insufficient_system_resource";
  Completion c = complete(kHello, Dialect::kDeepSeek, storage, b);
  EXPECT_EQ(c.words.size(), 3u);
  EXPECT_EQ(c.finish_reason, "insufficient_system_resource");
}

// ---------------------------------------------------------- non-stream shapes

TEST(BodyTest, OpenAiBodyMatchesItsText) {
  json::value storage;
  const Completion c = complete(kHello, Dialect::kOpenAi, storage);
  const json::value body = json::parse(completionBody(c));
  EXPECT_THAT(std::string(body.at("id").as_string()), StartsWith("chatcmpl-"));
  EXPECT_EQ(body.at("object"), "chat.completion");
  EXPECT_EQ(body.at("model"), "gpt-4o-mini");
  EXPECT_EQ(body.at("created"), 1700000000);
  const auto& choice = body.at("choices").at(0);
  EXPECT_TRUE(choice.at("logprobs").is_null());
  EXPECT_EQ(choice.at("finish_reason"), "stop");
  EXPECT_EQ(choice.at("message").at("content").as_string(), joinWords(c.words));
  const auto& usage = body.at("usage");
  EXPECT_EQ(usage.at("completion_tokens"), 24);
  EXPECT_EQ(usage.at("prompt_tokens"), 14);
  EXPECT_EQ(usage.at("total_tokens"), 38);
  EXPECT_THAT(std::string(body.at("system_fingerprint").as_string()), StartsWith("fp_"));
}

TEST(BodyTest, DeepSeekUsageKeepsTheCacheInvariants) {
  json::value storage;
  const Completion c = complete(kHello, Dialect::kDeepSeek, storage, {}, /*cached=*/10);
  const json::value body = json::parse(completionBody(c));
  const std::string id(body.at("id").as_string());
  EXPECT_EQ(id.size(), 36u);  // a bare UUID
  EXPECT_EQ(id[14], '4');
  const auto& u = body.at("usage");
  const int64_t prompt = u.at("prompt_tokens").as_int64();
  EXPECT_EQ(prompt, u.at("prompt_cache_hit_tokens").as_int64() +
                        u.at("prompt_cache_miss_tokens").as_int64());
  EXPECT_EQ(u.at("prompt_tokens_details").at("cached_tokens"), u.at("prompt_cache_hit_tokens"));
  EXPECT_EQ(u.at("prompt_cache_hit_tokens"), 10);
  EXPECT_EQ(u.at("total_tokens").as_int64(), prompt + u.at("completion_tokens").as_int64());
}

TEST(BodyTest, CachedTokensNeverExceedThePrompt) {
  json::value storage;
  const Completion c = complete(kHello, Dialect::kDeepSeek, storage, {}, /*cached=*/1000);
  EXPECT_EQ(c.cached_tokens, c.prompt_tokens);
}

TEST(BodyTest, DeepSeekReasoningIsPartOfCompletionTokens) {
  json::value storage;
  Behaviour b;
  b.reasoning_words = 4;
  const Completion c = complete(kHello, Dialect::kDeepSeek, storage, b);
  const json::value body = json::parse(completionBody(c));
  const auto& msg = body.at("choices").at(0).at("message");
  EXPECT_EQ(msg.at("reasoning_content").as_string(), joinWords(c.reasoning));
  const auto& u = body.at("usage");
  EXPECT_EQ(u.at("completion_tokens_details").at("reasoning_tokens"), 4);
  EXPECT_EQ(u.at("completion_tokens"), 28);
}

TEST(BodyTest, DashScopeAndMistralShapes) {
  json::value storage;
  Completion c = complete(kHello, Dialect::kDashScope, storage);
  json::value body = json::parse(completionBody(c));
  EXPECT_THAT(std::string(body.at("id").as_string()), StartsWith("chatcmpl-"));
  EXPECT_TRUE(body.at("system_fingerprint").is_null());
  EXPECT_THAT(completionBody(c), StartsWith(R"({"choices":[{"message":)"));

  c = complete(kHello, Dialect::kMistral, storage);
  body = json::parse(completionBody(c));
  EXPECT_EQ(body.at("id").as_string().size(), 32u);
  EXPECT_TRUE(body.at("choices").at(0).at("message").at("tool_calls").is_null());
  EXPECT_EQ(body.at("usage").at("completion_tokens"), 24);
}

TEST(BodyTest, AnthropicMessage) {
  json::value storage;
  const Completion c =
      complete(R"({"model":"claude-sonnet-4-5","max_tokens":10,"system":"Be brief.",)"
               R"("messages":[{"role":"user","content":"Hello there"}]})",
               Dialect::kAnthropic, storage);
  const json::value body = json::parse(completionBody(c));
  EXPECT_THAT(std::string(body.at("id").as_string()), StartsWith("msg_01"));
  EXPECT_EQ(body.at("type"), "message");
  EXPECT_EQ(body.at("content").at(0).at("type"), "text");
  EXPECT_EQ(body.at("content").at(0).at("text").as_string(), joinWords(c.words));
  EXPECT_EQ(body.at("stop_reason"), "max_tokens");  // 24 words capped at 10
  EXPECT_TRUE(body.at("stop_sequence").is_null());
  EXPECT_EQ(body.at("usage").at("input_tokens"), 14);  // the system prompt counts
  EXPECT_EQ(body.at("usage").at("output_tokens"), 10);
}

TEST(BodyTest, ToolCallUsesTheRequestsTool) {
  json::value storage;
  Behaviour b;
  b.tool_call = "";
  const Completion c =
      complete(R"({"model":"m","messages":[{"role":"user","content":"weather?"}],"tools":[{"type":)"
               R"("function","function":{"name":"get_weather","parameters":{"type":"object",)"
               R"("properties":{"city":{"type":"string"},"days":{"type":"integer"}}}}}]})",
               Dialect::kOpenAi, storage, b);
  const json::value body = json::parse(completionBody(c));
  const auto& msg = body.at("choices").at(0).at("message");
  EXPECT_TRUE(msg.at("content").is_null());
  const auto& fn = msg.at("tool_calls").at(0).at("function");
  EXPECT_EQ(fn.at("name"), "get_weather");
  const json::value args = json::parse(fn.at("arguments").as_string());
  EXPECT_TRUE(args.at("city").is_string());
  EXPECT_TRUE(args.at("days").is_int64());
  EXPECT_EQ(body.at("choices").at(0).at("finish_reason"), "tool_calls");
}

// ------------------------------------------------------------------ streams

TEST(StreamTest, ToolCallFragmentsAddUpToTheArguments) {
  constexpr const char* kTools =
      R"({"model":"m","stream":true,"max_tokens":50,"messages":[{"role":"user","content":"w?"}],)"
      R"("tools":[{"type":"function","function":{"name":"get_weather","parameters":{"type":)"
      R"("object","properties":{"city":{"type":"string"},"days":{"type":"integer"}}}}}]})";
  Behaviour b;
  b.tool_call = "get_weather";
  json::value storage;
  const Completion c = complete(kTools, Dialect::kMistral, storage, b);
  EXPECT_EQ(c.tool_call->id.size(), 9u);  // Mistral's id rule
  const auto events = dataEvents(completionStream(c));
  std::string args;
  for (const auto& e : events) {
    const auto* calls = e.at("choices").at(0).at("delta").as_object().if_contains("tool_calls");
    if (calls == nullptr) continue;
    args += std::string(calls->at(0).at("function").at("arguments").as_string());
  }
  EXPECT_EQ(args, c.tool_call->arguments);
  EXPECT_EQ(events.back().at("choices").at(0).at("finish_reason"), "tool_calls");

  // Anthropic's tool_use block has an ID in its own format and input_json_delta pieces.
  storage = json::parse(
      R"({"model":"c","max_tokens":50,"stream":true,"messages":[{"role":"user","content":"w?"}],)"
      R"("tools":[{"name":"get_weather","input_schema":{"type":"object","properties":)"
      R"({"city":{"type":"string"}}}}]})");
  Rng rng(1);
  const Completion a =
      makeCompletion(read(storage, Dialect::kAnthropic), Dialect::kAnthropic, b, {}, rng);
  EXPECT_THAT(a.tool_call->id, StartsWith("toolu_01"));
  const StreamScript s = completionStream(a);
  std::string partial;
  for (size_t i = 0; i < s.events.size(); ++i) {
    const std::string_view e = s.event(i);
    const json::value data = json::parse(e.substr(e.find("data: ") + 6));
    if (data.at("type") == "content_block_delta") {
      partial += std::string(data.at("delta").at("partial_json").as_string());
    }
  }
  EXPECT_EQ(json::parse(partial), json::parse(a.tool_call->arguments));
  EXPECT_EQ(json::parse(completionBody(a)).at("stop_reason"), "tool_use");
}

TEST(StreamTest, OpenAiWithoutIncludeUsageHasNoUsageAtAll) {
  json::value storage;
  const Completion c =
      complete(R"({"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]})",
               Dialect::kOpenAi, storage);
  const StreamScript s = completionStream(c);
  EXPECT_EQ(s.event(s.events.size() - 1), "data: [DONE]\n\n");
  const auto events = dataEvents(s);
  ASSERT_EQ(events.size(), 24u + 2);  // role, 24 words, finish
  std::string text;
  for (const auto& e : events) {
    EXPECT_FALSE(e.as_object().contains("usage"));
    EXPECT_EQ(e.at("object"), "chat.completion.chunk");
    if (const auto* content =
            e.at("choices").at(0).at("delta").as_object().if_contains("content")) {
      text += std::string(content->as_string());
    }
  }
  EXPECT_EQ(events.front().at("choices").at(0).at("delta").at("role"), "assistant");
  EXPECT_EQ(events.back().at("choices").at(0).at("finish_reason"), "stop");
  EXPECT_TRUE(events.back().at("choices").at(0).at("delta").as_object().empty());
  EXPECT_EQ(text, joinWords(c.words));  // the chunks add up to the non-stream text
  int content_events = 0;
  for (const auto& e : s.events) content_events += e.content ? 1 : 0;
  EXPECT_EQ(content_events, 24);  // one word per chunk
}

TEST(StreamTest, OpenAiIncludeUsageAddsATrailingUsageChunk) {
  json::value storage;
  const Completion c =
      complete(R"({"model":"m","stream":true,"stream_options":{"include_usage":true},)"
               R"("messages":[{"role":"user","content":"hi"}]})",
               Dialect::kOpenAi, storage);
  const auto events = dataEvents(completionStream(c));
  ASSERT_EQ(events.size(), 24u + 3);
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    EXPECT_TRUE(events[i].at("usage").is_null()) << i;
    EXPECT_EQ(events[i].at("choices").as_array().size(), 1u);
  }
  const auto& last = events.back();
  EXPECT_TRUE(last.at("choices").as_array().empty());
  EXPECT_EQ(last.at("usage").at("completion_tokens"), 24);
  EXPECT_EQ(last.at("usage").at("total_tokens"),
            last.at("usage").at("prompt_tokens").as_int64() + 24);
}

TEST(StreamTest, DeepSeekPutsUsageOnTheFinishChunkAlways) {
  for (const bool include_usage : {false, true}) {
    json::value storage;
    const std::string body = std::string(R"({"model":"deepseek-chat","stream":true,)") +
                             (include_usage ? R"("stream_options":{"include_usage":true},)" : "") +
                             R"("messages":[{"role":"user","content":"hi"}]})";
    const Completion c = complete(body, Dialect::kDeepSeek, storage);
    const auto events = dataEvents(completionStream(c));
    ASSERT_EQ(events.size(), 24u + 2);
    for (size_t i = 0; i + 1 < events.size(); ++i) {
      EXPECT_EQ(events[i].as_object().contains("usage"), include_usage) << i;
      if (include_usage) {
        EXPECT_TRUE(events[i].at("usage").is_null());
      }
    }
    const auto& finish = events.back();
    EXPECT_EQ(finish.at("choices").at(0).at("finish_reason"), "stop");
    EXPECT_EQ(finish.at("choices").at(0).at("delta").at("content"), "");
    EXPECT_EQ(finish.at("usage").at("prompt_cache_miss_tokens"),
              finish.at("usage").at("prompt_tokens"));
  }
}

TEST(StreamTest, DeepSeekReasoningStream) {
  json::value storage;
  Behaviour b;
  b.reasoning_words = 2;
  b.answer_words = 2;
  const Completion c = complete(
      R"({"model":"deepseek-reasoner","stream":true,"messages":[{"role":"user","content":"hi"}]})",
      Dialect::kDeepSeek, storage, b);
  const auto events = dataEvents(completionStream(c));
  ASSERT_EQ(events.size(), 6u);
  EXPECT_TRUE(events[0].at("choices").at(0).at("delta").at("content").is_null());
  EXPECT_EQ(events[0].at("choices").at(0).at("delta").at("reasoning_content"), "");
  EXPECT_TRUE(events[1].at("choices").at(0).at("delta").at("content").is_null());
  EXPECT_TRUE(events[3].at("choices").at(0).at("delta").at("reasoning_content").is_null());
  EXPECT_EQ(events[5].at("usage").at("completion_tokens_details").at("reasoning_tokens"), 2);
}

TEST(StreamTest, DashScopeIncludeUsageChunk) {
  json::value storage;
  const Completion c =
      complete(R"({"model":"qwen-plus","stream":true,"stream_options":{"include_usage":true},)"
               R"("messages":[{"role":"user","content":"hi"}]})",
               Dialect::kDashScope, storage);
  const StreamScript s = completionStream(c);
  EXPECT_THAT(std::string(s.event(0)), StartsWith(R"(data: {"choices":[{"finish_reason":null,)"));
  const auto events = dataEvents(s);
  EXPECT_TRUE(events.back().at("choices").as_array().empty());
  EXPECT_TRUE(events.back().at("system_fingerprint").is_null());
}

TEST(StreamTest, AnthropicEventSequence) {
  json::value storage;
  Behaviour b;
  b.answer_words = 2;
  const Completion c = complete(R"({"model":"claude-sonnet-4-5","max_tokens":100,"stream":true,)"
                                R"("messages":[{"role":"user","content":"hi"}]})",
                                Dialect::kAnthropic, storage, b);
  const StreamScript s = completionStream(c);
  std::vector<std::string> names;
  for (size_t i = 0; i < s.events.size(); ++i) {
    const std::string_view e = s.event(i);
    ASSERT_TRUE(e.starts_with("event: ")) << e;
    names.emplace_back(e.substr(7, e.find('\n') - 7));
    const json::value data = json::parse(e.substr(e.find("data: ") + 6));
    EXPECT_EQ(data.at("type").as_string(), names.back());
  }
  EXPECT_THAT(names, ElementsAre("message_start", "content_block_start", "ping",
                                 "content_block_delta", "content_block_delta", "content_block_stop",
                                 "message_delta", "message_stop"));
  const std::string_view delta = s.event(4);
  EXPECT_THAT(std::string(delta), HasSubstr(R"("text":" )"));  // later words lead with a space
  const json::value message_delta = json::parse(s.event(6).substr(s.event(6).find("data: ") + 6));
  EXPECT_EQ(message_delta.at("usage").at("output_tokens"), 2);
  EXPECT_EQ(message_delta.at("delta").at("stop_reason"), "end_turn");
}

// -------------------------------------------------------------- behaviours

TEST(BehaviourTest, ParsesEveryField) {
  auto b = parseBehaviourText(R"({
      "status": 429, "error_body": "{}", "error_type": "insufficient_quota",
      "error_message": "m", "headers": {"Retry-After": "2", "x-n": 3},
      "retry_after": "http-date+5", "latency_ms": 10, "ttft_ms": 20, "tokens_per_sec": 50.5,
      "keepalives": 3, "keepalive_interval_ms": 5, "keepalive_forever": false,
      "finish_reason": "length", "answer_words": 7, "cut_after": 3, "reset": "mid_body",
      "hang": false, "empty_body": true, "malformed": "truncated_json", "stream_error": 2,
      "cache_hit_tokens": 64, "reasoning_words": 4, "tool_call": true})");
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->status, 429);
  EXPECT_EQ(b->error_type, "insufficient_quota");
  EXPECT_THAT(b->headers, ElementsAre(std::pair<std::string, std::string>("retry-after", "2"),
                                      std::pair<std::string, std::string>("x-n", "3")));
  EXPECT_EQ(b->tokens_per_sec, 50.5);
  EXPECT_EQ(b->reset, ResetMode::kMidBody);
  EXPECT_EQ(b->malformed, Malformed::kTruncatedJson);
  EXPECT_EQ(b->tool_call, "");
  EXPECT_EQ(b->cut_after, 3);
}

TEST(BehaviourTest, RejectsTyposAndWrongTypes) {
  EXPECT_FALSE(parseBehaviourText(R"({"latnecy_ms": 5})").ok());
  EXPECT_FALSE(parseBehaviourText(R"({"status": "429"})").ok());
  EXPECT_FALSE(parseBehaviourText(R"({"status": 99})").ok());
  EXPECT_FALSE(parseBehaviourText(R"({"reset": "sometimes"})").ok());
  EXPECT_FALSE(parseBehaviourText(R"({"latency_ms": -1})").ok());
  EXPECT_FALSE(parseBehaviourText("[1]").ok());
  EXPECT_FALSE(parseBehaviourText("{").ok());
  EXPECT_TRUE(parseBehaviourText("{}").ok());
}

TEST(BehaviourTest, OverlayLetsTheHigherLayerWin) {
  Behaviour low =
      *parseBehaviourText(R"({"status":500,"latency_ms":10,"headers":{"a":"1","b":"2"}})");
  const Behaviour high = *parseBehaviourText(R"({"status":429,"headers":{"B":"3"}})");
  low.overlay(high);
  EXPECT_EQ(low.status, 429);
  EXPECT_EQ(low.latency_ms, 10);  // not set above: kept
  EXPECT_THAT(low.headers, ElementsAre(std::pair<std::string, std::string>("a", "1"),
                                       std::pair<std::string, std::string>("b", "3")));
}

TEST(BehaviourTest, MagicModels) {
  EXPECT_EQ(magicModelBehaviour("fake-429")->status, 429);
  EXPECT_EQ(magicModelBehaviour("fake-503")->status, 503);
  EXPECT_EQ(magicModelBehaviour("fake-slow")->latency_ms, 2000);
  EXPECT_EQ(magicModelBehaviour("fake-length")->finish_reason, "length");
  EXPECT_EQ(magicModelBehaviour("fake-cut")->cut_after, 3);
  EXPECT_FALSE(magicModelBehaviour("gpt-4o").has_value());
  EXPECT_FALSE(magicModelBehaviour("fake-unknown").has_value());
}

TEST(BehaviourTest, FindsTheDirectiveAnywhereInTheText) {
  EXPECT_EQ(findDirective(R"(please FAKELLM{"status":503} thanks)"), R"({"status":503})");
  EXPECT_EQ(findDirective(R"(x FAKELLM{"headers":{"a":"}{"}, "n": 1} y)"),
            R"({"headers":{"a":"}{"}, "n": 1})");
  EXPECT_EQ(findDirective(R"(FAKELLM{"a":"\"}"})"), R"({"a":"\"}"})");
  EXPECT_FALSE(findDirective("no directive {here}").has_value());
  EXPECT_EQ(findDirective(R"(FAKELLM{"open":)"), R"({"open":)");  // parse will reject it
}

TEST(BehaviourTest, RetryAfterHttpDate) {
  EXPECT_EQ(retryAfterValue("2", 0), "2");
  EXPECT_EQ(retryAfterValue("1.5", 0), "1.5");
  EXPECT_EQ(retryAfterValue("http-date+10", 784111767), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(retryAfterValue("http-date", 784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
}

// ------------------------------------------------------------------- errors

TEST(ErrorTest, DeepSeek402WithItsHint) {
  const ErrorSpec e = scriptedError(Dialect::kDeepSeek, 402, "", "deepseek-chat");
  EXPECT_EQ(renderError(Dialect::kDeepSeek, e, "id"),
            R"({"error":{"message":"Insufficient Balance","type":"unknown_error","param":null,)"
            R"("code":"invalid_request_error"},"detail":"余额不足，请充值"})");
}

TEST(ErrorTest, OpenAi429Variants) {
  const json::value rate = json::parse(
      renderError(Dialect::kOpenAi, scriptedError(Dialect::kOpenAi, 429, "", "gpt-4o"), ""));
  EXPECT_EQ(rate.at("error").at("code"), "rate_limit_exceeded");
  const json::value quota = json::parse(renderError(
      Dialect::kOpenAi, scriptedError(Dialect::kOpenAi, 429, "insufficient_quota", "gpt-4o"), ""));
  EXPECT_EQ(quota.at("error").at("type"), "insufficient_quota");
  EXPECT_EQ(quota.at("error").at("code"), "insufficient_quota");
  EXPECT_TRUE(quota.at("error").at("param").is_null());
}

TEST(ErrorTest, AnthropicAndMistralEnvelopes) {
  const json::value a = json::parse(
      renderError(Dialect::kAnthropic, scriptedError(Dialect::kAnthropic, 529, "", "c"), "req_1"));
  EXPECT_EQ(a.at("type"), "error");
  EXPECT_EQ(a.at("error").at("type"), "overloaded_error");
  EXPECT_EQ(a.at("error").at("message"), "Overloaded");
  EXPECT_EQ(a.at("request_id"), "req_1");

  const json::value m = json::parse(
      renderError(Dialect::kMistral, scriptedError(Dialect::kMistral, 429, "", "m"), ""));
  EXPECT_EQ(m.at("object"), "error");
  EXPECT_EQ(m.at("code"), "1300");
  EXPECT_EQ(renderError(Dialect::kMistral, authError(Dialect::kMistral, "x"), "r"),
            R"({"message":"Unauthorized","request_id":"r"})");
}

TEST(ErrorTest, ContextLengthMessagesCarryTheNumbers) {
  EXPECT_THAT(contextLengthError(Dialect::kDeepSeek, 65536, 70000, 4096).message,
              HasSubstr("maximum context length is 65536 tokens. However, you requested 74096 "
                        "tokens (70000 in the messages, 4096 in the completion)"));
  const ErrorSpec openai = contextLengthError(Dialect::kOpenAi, 8192, 9000, 0);
  EXPECT_EQ(openai.code, "context_length_exceeded");
  EXPECT_THAT(openai.message, HasSubstr("resulted in 9000 tokens"));
  EXPECT_EQ(contextLengthError(Dialect::kAnthropic, 200000, 210000, 0).message,
            "prompt is too long: 210000 tokens > 200000 maximum");
  EXPECT_EQ(scriptedError(Dialect::kMistral, 400, "", "m").code, "3051");
}

TEST(ErrorTest, StreamErrorEvents) {
  std::string openai;
  appendStreamErrorEvent(Dialect::kOpenAi, openai);
  ASSERT_TRUE(openai.starts_with("data: ") && openai.ends_with("\n\n"));
  EXPECT_EQ(json::parse(openai.substr(6)).at("error").at("type"), "server_error");
  std::string anthropic;
  appendStreamErrorEvent(Dialect::kAnthropic, anthropic);
  EXPECT_THAT(anthropic, StartsWith("event: error\ndata: {\"type\":\"error\""));
}

// --------------------------------------------------------------- validation

TEST(ValidationTest, WhatTheRealProvidersReject) {
  json::value dev =
      json::parse(R"({"model":"deepseek-chat","messages":[{"role":"developer","content":"x"}]})");
  ASSERT_TRUE(read(dev, Dialect::kDeepSeek).invalid.has_value());
  EXPECT_THAT(read(dev, Dialect::kDeepSeek).invalid->message,
              HasSubstr("unknown variant `developer`"));
  EXPECT_FALSE(read(dev, Dialect::kDeepSeek, /*strict=*/false).invalid.has_value());
  EXPECT_FALSE(read(dev, Dialect::kOpenAi).invalid.has_value());

  json::value no_max = json::parse(R"({"model":"c","messages":[{"role":"user","content":"x"}]})");
  EXPECT_TRUE(read(no_max, Dialect::kAnthropic).invalid.has_value());
  json::value sys =
      json::parse(R"({"model":"c","max_tokens":5,"messages":[{"role":"system","content":"x"}]})");
  EXPECT_TRUE(read(sys, Dialect::kAnthropic).invalid.has_value());

  json::value extra = json::parse(
      R"({"model":"m","stream_options":{"include_usage":true},"messages":[{"role":"user","content":"x"}]})");
  const auto mistral = read(extra, Dialect::kMistral).invalid;
  ASSERT_TRUE(mistral.has_value());
  EXPECT_EQ(mistral->status, 422);
  EXPECT_THAT(renderError(Dialect::kMistral, *mistral, ""), HasSubstr("extra_forbidden"));
  json::value tool_id = json::parse(
      R"({"model":"m","messages":[{"role":"tool","tool_call_id":"call_abc","content":"x"}]})");
  EXPECT_EQ(read(tool_id, Dialect::kMistral).invalid->code, "3280");

  json::value no_messages = json::parse(R"({"model":"m"})");
  EXPECT_TRUE(read(no_messages, Dialect::kOpenAi, false).invalid.has_value());
}

// -------------------------------------------------------------------- state

TEST(PromptCacheTest, LongestSeenPrefixRoundedTo64) {
  PromptCache cache;
  const std::vector<PrefixKey> first = {{1, 50}, {2, 130}};
  EXPECT_EQ(cache.lookupAndRemember(first), 0);
  const std::vector<PrefixKey> follow_up = {{1, 50}, {2, 130}, {3, 160}, {4, 200}};
  EXPECT_EQ(cache.lookupAndRemember(follow_up), 128);
  EXPECT_EQ(cache.lookupAndRemember(follow_up), 192);
  cache.clear();
  EXPECT_EQ(cache.lookupAndRemember(follow_up), 0);
}

TEST(ColdStartTest, FirstRequestAndAfterIdle) {
  ColdStart cold(500, 1000);
  EXPECT_EQ(cold.delayFor(0), 500);
  EXPECT_EQ(cold.delayFor(100), 400);  // still warming up
  EXPECT_EQ(cold.delayFor(900), 0);
  EXPECT_EQ(cold.delayFor(1800), 0);    // 900 ms idle: still warm
  EXPECT_EQ(cold.delayFor(2900), 500);  // 1100 ms idle: cold again
  ColdStart off(0, 1000);
  EXPECT_EQ(off.delayFor(0), 0);
}

TEST(LatencyTest, Distributions) {
  Rng rng(1);
  EXPECT_EQ(sampleLatency(LatencyDist::kFixed, 100, 50, rng), 100);
  EXPECT_EQ(sampleLatency(LatencyDist::kUniform, 0, 50, rng), 0);
  for (int i = 0; i < 200; ++i) {
    const int64_t u = sampleLatency(LatencyDist::kUniform, 100, 20, rng);
    EXPECT_GE(u, 80);
    EXPECT_LE(u, 120);
    EXPECT_GE(sampleLatency(LatencyDist::kLognormal, 100, 50, rng), 0);
  }
}

TEST(StatsTest, RecordsLowerCasedHeadersAndJsonBodies) {
  Stats stats;
  boost::beast::http::fields headers;
  headers.set("Authorization", "Bearer sk-1");
  headers.set("X-Custom", "v");
  stats.recordConnection();
  stats.recordRequest("POST", "/deepseek/chat/completions", headers, R"({"model":"x"})");
  stats.recordRequest("POST", "/v1/embeddings?x=1", headers, "not json");
  const json::value v = json::parse(stats.toJson());
  EXPECT_EQ(v.at("requests"), 2);
  EXPECT_EQ(v.at("connections_accepted"), 1);
  EXPECT_EQ(v.at("by_path").at("/v1/embeddings"), 1);
  const auto& last = v.at("last_requests").as_array();
  ASSERT_EQ(last.size(), 2u);
  EXPECT_EQ(last[0].at("headers").at("authorization"), "Bearer sk-1");
  EXPECT_EQ(last[0].at("body").at("model"), "x");
  EXPECT_EQ(last[1].at("body"), "not json");
  for (int i = 0; i < 60; ++i) stats.recordRequest("GET", "/v1/models", headers, "");
  EXPECT_EQ(json::parse(stats.toJson()).at("last_requests").as_array().size(), 50u);
  stats.reset();
  EXPECT_EQ(json::parse(stats.toJson()).at("requests"), 0);
}

// -------------------------------------------------------------- the rest

TEST(EmbeddingsTest, DeterministicUnitVectors) {
  const auto a = embeddingVector("hello", 8);
  EXPECT_EQ(a, embeddingVector("hello", 8));
  EXPECT_NE(a, embeddingVector("hello!", 8));
  double norm = 0;
  for (float x : a) norm += static_cast<double>(x) * x;
  EXPECT_NEAR(norm, 1.0, 1e-5);

  const auto r = embeddingsResponse(
      json::parse(R"({"model":"text-embedding-3-small","input":["a","bb"],"dimensions":4})"), 8);
  ASSERT_FALSE(r.error.has_value());
  const json::value v = json::parse(r.body);
  EXPECT_EQ(v.at("data").as_array().size(), 2u);
  EXPECT_EQ(v.at("data").at(1).at("embedding").as_array().size(), 4u);
  EXPECT_EQ(v.at("usage").at("prompt_tokens"), 2);
  EXPECT_TRUE(embeddingsResponse(json::parse(R"({"model":"m"})"), 8).error.has_value());
}

TEST(RouteTest, PathsSelectDialects) {
  EXPECT_EQ(matchRoute("/v1/chat/completions").dialect, Dialect::kOpenAi);
  EXPECT_EQ(matchRoute("/deepseek/v1/chat/completions").dialect, Dialect::kDeepSeek);
  EXPECT_EQ(matchRoute("/deepseek/chat/completions?x=1").kind, RouteKind::kChat);
  EXPECT_EQ(matchRoute("/anthropic/v1/messages").dialect, Dialect::kAnthropic);
  EXPECT_EQ(matchRoute("/dashscope/compatible-mode/v1/chat/completions").dialect,
            Dialect::kDashScope);
  EXPECT_EQ(matchRoute("/mistral/v1/chat/completions").dialect, Dialect::kMistral);
  EXPECT_EQ(matchRoute("/openai/v1/embeddings").kind, RouteKind::kEmbeddings);
  EXPECT_TRUE(matchRoute("/_fakellm/stats").isControl());
  const Route unknown = matchRoute("/anthropic/v1/complete");
  EXPECT_EQ(unknown.kind, RouteKind::kNotFound);
  EXPECT_EQ(unknown.dialect, Dialect::kAnthropic);
}

TEST(OptionsTest, ParsesTheContract) {
  auto o =
      parseOptions({"--listen", "127.0.0.1:0", "--threads=2", "--latency-ms", "5", "--latency-dist",
                    "lognormal", "--tokens-per-sec", "12.5", "--require-key", "sk-x", "--seed", "9",
                    "--context-window", "4096", "--max-concurrency", "3"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->port, 0);
  EXPECT_EQ(o->threads, 2);
  EXPECT_EQ(o->latency_dist, LatencyDist::kLognormal);
  EXPECT_EQ(o->tokens_per_sec, 12.5);
  EXPECT_EQ(o->defaults().latency_ms, 5);
  EXPECT_EQ(o->defaults().context_window, 4096);
  EXPECT_EQ(o->max_concurrency, 3);
  EXPECT_FALSE(parseOptions({"--listen", "0.0.0.0:80"}).ok());
  EXPECT_TRUE(parseOptions({"--listen", "0.0.0.0:80", "--allow-non-loopback"}).ok());
  EXPECT_TRUE(parseOptions({"--listen", "[::1]:8080"}).ok());
  EXPECT_FALSE(parseOptions({"--listen", "127.0.0.1"}).ok());
  EXPECT_FALSE(parseOptions({"--bogus"}).ok());
  EXPECT_FALSE(parseOptions({"--threads", "zero"}).ok());
  EXPECT_FALSE(parseOptions({"--latency-dist", "weird"}).ok());
}

}  // namespace
}  // namespace llmgate::fakellm
