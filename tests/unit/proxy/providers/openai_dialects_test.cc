// Provider quirks of the OpenAI-compatible dialects (../shared/PROVIDERS.md
// §1, §4, §5): request rewriting and error mapping.
#include "proxy/providers/openai_dialects.h"

#include <gtest/gtest.h>

#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "proxy/providers/openai_adapter.h"

namespace llmgate::proxy::providers {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;

json::object prepared(config::ProviderKind kind, std::string_view body) {
  json::object o = json::parse(body).as_object();
  config::ModelConfig model;
  model.upstream_model = "upstream";
  OpenAiAdapter(kind).prepareChatBody(o, model);
  return o;
}

TEST(MistralDialectTest, RenamesAndWhitelistsFields) {
  const json::object body = prepared(config::ProviderKind::kMistral, R"({
    "model": "m", "messages": [{"role": "user", "content": "hi"}], "seed": 7,
    "max_completion_tokens": 100, "tool_choice": "required", "stream": true,
    "stream_options": {"include_usage": true}, "user": "u1", "logprobs": false,
    "store": true, "metadata": {"a": "b"}, "temperature": 0.2, "safe_prompt": true})");
  EXPECT_EQ(body.at("model"), "upstream");
  EXPECT_EQ(body.at("random_seed"), 7);
  EXPECT_FALSE(body.contains("seed"));
  EXPECT_EQ(body.at("max_tokens"), 100);
  EXPECT_FALSE(body.contains("max_completion_tokens"));
  EXPECT_EQ(body.at("tool_choice"), "any");
  for (const char* dropped : {"stream_options", "user", "logprobs", "store", "metadata"}) {
    EXPECT_FALSE(body.contains(dropped)) << dropped;
  }
  EXPECT_EQ(body.at("temperature"), 0.2);
  EXPECT_EQ(body.at("safe_prompt"), true);
  EXPECT_EQ(body.at("stream"), true);
}

TEST(MistralDialectTest, ToolCallIdsBecomeNineAlnumCharsConsistently) {
  const json::object body = prepared(config::ProviderKind::kMistral, R"({
    "model": "m", "tool_choice": {"type": "function", "function": {"name": "f"}},
    "messages": [
      {"role": "developer", "content": "be brief"},
      {"role": "user", "content": "call f", "name": "alice"},
      {"role": "assistant", "content": null, "reasoning_content": "thinking",
       "tool_calls": [{"id": "call_abc123XYZ_long", "type": "function",
                       "function": {"name": "f", "arguments": "{}"}},
                      {"id": "toolu_01VpEm654HvfMoRcrE3Hgdc6", "type": "function",
                       "function": {"name": "f", "arguments": "{}"}},
                      {"id": "D681PevKs", "type": "function",
                       "function": {"name": "f", "arguments": "{}"}}]},
      {"role": "tool", "tool_call_id": "call_abc123XYZ_long", "content": "1"},
      {"role": "tool", "tool_call_id": "toolu_01VpEm654HvfMoRcrE3Hgdc6", "content": "2"},
      {"role": "tool", "tool_call_id": "D681PevKs", "content": "3"}]})");
  const json::array& messages = body.at("messages").as_array();
  EXPECT_EQ(messages[0].at("role"), "system");
  EXPECT_FALSE(messages[1].as_object().contains("name"));
  const json::object& assistant = messages[2].as_object();
  EXPECT_FALSE(assistant.contains("reasoning_content"));
  const json::array& calls = assistant.at("tool_calls").as_array();
  for (int i = 0; i < 3; ++i) {
    const std::string id(calls[i].at("id").as_string());
    EXPECT_EQ(id.size(), 9u) << id;
    for (char c : id) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << id;
    EXPECT_EQ(messages[3 + i].at("tool_call_id").as_string(), id);  // still paired
  }
  EXPECT_NE(calls[0].at("id"), calls[1].at("id"));
  EXPECT_EQ(calls[2].at("id"), "D681PevKs");  // already valid: unchanged
  // The object form of tool_choice is left alone.
  EXPECT_TRUE(body.at("tool_choice").is_object());
}

TEST(MistralDialectTest, ModelLengthBecomesLength) {
  OpenAiAdapter mistral(config::ProviderKind::kMistral);
  EXPECT_TRUE(mistral.translatesAnswers());
  EXPECT_FALSE(OpenAiAdapter(config::ProviderKind::kOpenAI).translatesAnswers());
  json::value answer = json::parse(R"({"object":"chat.completion","choices":[
      {"index":0,"message":{"role":"assistant","content":"cut"},"finish_reason":"model_length"},
      {"index":1,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],
      "usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3}})");
  ASSERT_TRUE(mistral.translateResponse(answer));
  EXPECT_EQ(answer.at("choices").at(0).at("finish_reason"), "length");
  EXPECT_EQ(answer.at("choices").at(1).at("finish_reason"), "stop");
  EXPECT_EQ(answer.at("usage").at("total_tokens"), 3);
}

TEST(MistralDialectTest, IdMappingIsDeterministic) {
  EXPECT_EQ(mistralToolCallId("call_1"), mistralToolCallId("call_1"));
  EXPECT_NE(mistralToolCallId("call_1"), mistralToolCallId("call_2"));
  EXPECT_EQ(mistralToolCallId("abcDEF123"), "abcDEF123");
  EXPECT_NE(mistralToolCallId("abcDEF12_"), "abcDEF12_");
}

TEST(DeepSeekDialectTest, DeveloperRoleAndTextPartsFlattened) {
  const json::object body = prepared(config::ProviderKind::kDeepSeek, R"({
    "model": "m", "seed": 1, "messages": [
      {"role": "developer", "content": "rules"},
      {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
      {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]})");
  const json::array& messages = body.at("messages").as_array();
  EXPECT_EQ(messages[0].at("role"), "system");
  EXPECT_EQ(messages[1].at("content"), "a\nb");
  EXPECT_TRUE(messages[2].at("content").is_array());  // not text-only: left alone
  EXPECT_EQ(body.at("seed"), 1);                      // DeepSeek is not Mistral
}

TEST(OtherDialectsTest, OpenAiKeepsDeveloperAndSeed) {
  const json::object body = prepared(config::ProviderKind::kOpenAI, R"({
    "model": "m", "seed": 1, "user": "u", "tool_choice": "required",
    "messages": [{"role": "developer", "content": "rules"}]})");
  EXPECT_EQ(body.at("messages").as_array()[0].at("role"), "developer");
  EXPECT_EQ(body.at("seed"), 1);
  EXPECT_EQ(body.at("user"), "u");
  EXPECT_EQ(body.at("tool_choice"), "required");
}

config::ProviderConfig dashscope(std::string host) {
  config::ProviderConfig p;
  p.name = "qwen";
  p.kind = config::ProviderKind::kDashScope;
  p.endpoint.host = std::move(host);
  p.api_key = {"DASHSCOPE_API_KEY", "sk-canary-dashscope"};
  return p;
}

TEST(DashScopeDialectTest, ThrottlingWordedAsQuotaIsARateLimit) {
  OpenAiAdapter adapter(config::ProviderKind::kDashScope);
  const auto p = dashscope("dashscope-intl.aliyuncs.com");
  http::fields none;
  // Throttling.AllocationQuota: 429 with insufficient_quota wording.
  api::ApiError throttled = adapter.mapError(
      429, none,
      R"({"error":{"message":"Allocated quota exceeded, please increase your quota limit.","type":"insufficient_quota","code":"insufficient_quota"}})",
      p);
  EXPECT_EQ(throttled.status, 429);
  EXPECT_EQ(throttled.code, "rate_limited");
  for (
      const char* body :
      {R"({"error":{"message":"You have exceeded your current request limit.","type":"limit_requests","code":"limit_requests"}})",
       R"({"error":{"message":"Requests rate limit exceeded, please try again later.","code":"limit_requests"}})"}) {
    api::ApiError limited = adapter.mapError(429, none, body, p);
    EXPECT_EQ(limited.code, "rate_limited") << body;
  }
  // Overdue payment is an empty account.
  api::ApiError arrears = adapter.mapError(
      400, none,
      R"({"error":{"message":"Access denied, please make sure your account is in good standing.","type":"Arrearage","param":null,"code":"Arrearage"},"request_id":"8605e472"})",
      p);
  EXPECT_EQ(arrears.status, 402);
  EXPECT_EQ(arrears.code, "upstream_quota_exhausted");
  // The same insufficient_quota 429 from OpenAI is an empty account.
  api::ApiError openai = OpenAiAdapter(config::ProviderKind::kOpenAI)
                             .mapError(429, none,
                                       R"({"error":{"type":"insufficient_quota",
                                           "code":"insufficient_quota"}})",
                                       p);
  EXPECT_EQ(openai.code, "upstream_quota_exhausted");
}

TEST(DashScopeDialectTest, RegionBoundKeysAreExplainedOn401) {
  OpenAiAdapter adapter(config::ProviderKind::kDashScope);
  http::fields none;
  const char* body =
      R"({"error":{"message":"Incorrect API key provided. ","type":"invalid_request_error","param":null,"code":"invalid_api_key"}})";
  api::ApiError intl = adapter.mapError(401, none, body, dashscope("dashscope-intl.aliyuncs.com"));
  EXPECT_EQ(intl.code, "upstream_auth_failed");
  EXPECT_NE(intl.message.find("Singapore"), std::string::npos) << intl.message;
  EXPECT_EQ(intl.message.find("sk-canary-dashscope"), std::string::npos);
  EXPECT_NE(adapter.mapError(401, none, body, dashscope("dashscope.aliyuncs.com"))
                .message.find("Beijing"),
            std::string::npos);
  EXPECT_NE(adapter.mapError(401, none, body, dashscope("dashscope-us.aliyuncs.com"))
                .message.find("Virginia"),
            std::string::npos);
  EXPECT_EQ(adapter.mapError(401, none, body, dashscope("127.0.0.1")).message.find("region"),
            std::string::npos);
}

TEST(MistralDialectTest, TopLevelErrorEnvelopeIsRead) {
  OpenAiAdapter adapter(config::ProviderKind::kMistral);
  config::ProviderConfig p;
  p.name = "mistral";
  p.kind = config::ProviderKind::kMistral;
  http::fields none;
  api::ApiError e = adapter.mapError(
      400, none,
      R"({"object":"error","message":"Tool call id was toolu_01VpEm654HvfMoRcrE3Hgdc6 but must be a-z, A-Z, 0-9, with a length of 9.","type":"invalid_function_call","param":null,"code":"3280","raw_status_code":400})",
      p);
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.code, "upstream_invalid_request");
  EXPECT_NE(e.message.find("with a length of 9"), std::string::npos) << e.message;
}

}  // namespace
}  // namespace llmgate::proxy::providers
