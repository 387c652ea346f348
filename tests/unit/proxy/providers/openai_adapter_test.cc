#include "proxy/providers/openai_adapter.h"

#include <gtest/gtest.h>

#include "boost/json/serialize.hpp"

namespace llmgate::proxy::providers {
namespace {

namespace http = boost::beast::http;

config::ProviderConfig provider(config::ProviderKind kind = config::ProviderKind::kDeepSeek) {
  config::ProviderConfig p;
  p.name = "deepseek";
  p.kind = kind;
  p.endpoint.base_path = "";
  p.api_key = {"DEEPSEEK_API_KEY", "sk-canary-secret"};
  return p;
}

TEST(OpenAiAdapterTest, PathsAndAuth) {
  OpenAiAdapter adapter(config::ProviderKind::kOpenAI);
  config::ProviderConfig p = provider();
  p.endpoint.base_path = "/v1";
  EXPECT_EQ(adapter.chatPath(p), "/v1/chat/completions");
  EXPECT_EQ(adapter.embeddingsPath(p), "/v1/embeddings");
  std::string head;
  adapter.appendAuth(head, p);
  EXPECT_EQ(head, "Authorization: Bearer sk-canary-secret\r\n");
}

TEST(OpenAiAdapterTest, RewritesModelAndDropsStreamOptionsForMistral) {
  config::ModelConfig model;
  model.upstream_model = "mistral-large-latest";
  boost::json::object body{{"model", "mistral-large"},
                           {"stream_options", {{"include_usage", true}}}};
  OpenAiAdapter(config::ProviderKind::kMistral).prepareChatBody(body, model);
  EXPECT_EQ(body["model"], "mistral-large-latest");
  EXPECT_FALSE(body.contains("stream_options"));
  boost::json::object openai_body{{"stream_options", {{"include_usage", true}}}};
  OpenAiAdapter(config::ProviderKind::kOpenAI).prepareChatBody(openai_body, model);
  EXPECT_TRUE(openai_body.contains("stream_options"));
}

TEST(OpenAiAdapterTest, DeepSeekChineseHintStaysUnderProviderError) {
  OpenAiAdapter adapter(config::ProviderKind::kDeepSeek);
  const std::string body =
      R"({"error":{"message":"Insufficient Balance","type":"unknown_error","param":null,"code":"invalid_request_error"},"detail":"余额不足"})";
  api::ApiError e = adapter.mapError(402, {}, body, provider());
  EXPECT_EQ(e.status, 402);
  EXPECT_EQ(e.code, "upstream_quota_exhausted");
  EXPECT_NE(e.message.find("deepseek"), std::string::npos);
  EXPECT_EQ(e.message.find("余额"), std::string::npos);
  ASSERT_TRUE(e.provider_error.has_value());
  EXPECT_NE(boost::json::serialize(*e.provider_error).find("detail"), std::string::npos);
  EXPECT_FALSE(e.retry_after.has_value());
}

TEST(OpenAiAdapterTest, DeepSeekHintsAreTranslatedAndKeysRedacted) {
  OpenAiAdapter adapter(config::ProviderKind::kDeepSeek);
  api::ApiError busy = adapter.mapError(
      503, {}, R"({"error":{"message":"Server Overloaded"},"detail":"服务器繁忙，请稍后重试"})",
      provider());
  EXPECT_NE(busy.message.find("the server is busy"), std::string::npos) << busy.message;
  api::ApiError unknown =
      adapter.mapError(400, {}, R"({"error":{"message":"x"},"detail":"未知的提示"})", provider());
  EXPECT_NE(unknown.message.find("hint in another language"), std::string::npos);
  api::ApiError echoed = adapter.mapError(
      401, {}, R"({"error":{"message":"key sk-canary-secret is invalid"}})", provider());
  EXPECT_EQ(echoed.body().find("sk-canary-secret"), std::string::npos) << echoed.body();
}

TEST(OpenAiAdapterTest, ProviderAuthFailureIsNotAClient401) {
  api::ApiError e =
      OpenAiAdapter(config::ProviderKind::kOpenAI)
          .mapError(401, {}, R"({"error":{"message":"Incorrect API key"}})", provider());
  EXPECT_EQ(e.status, 502);
  EXPECT_EQ(e.code, "upstream_auth_failed");
  EXPECT_NE(e.message.find("DEEPSEEK_API_KEY"), std::string::npos);
  EXPECT_EQ(e.body().find("sk-canary-secret"), std::string::npos);
}

TEST(OpenAiAdapterTest, RateLimitPassesRetryAfterAndQuotaDoesNot) {
  OpenAiAdapter adapter(config::ProviderKind::kOpenAI);
  http::fields headers;
  headers.set("retry-after", "2");
  api::ApiError limited =
      adapter.mapError(429, headers, R"({"error":{"code":"rate_limit_exceeded"}})", provider());
  EXPECT_EQ(limited.code, "rate_limited");
  EXPECT_EQ(limited.retry_after.value_or(""), "2");
  http::fields ms;
  ms.set("retry-after-ms", "1500");
  EXPECT_EQ(adapter.mapError(429, ms, "{}", provider()).retry_after.value_or(""), "2");
  api::ApiError quota = adapter.mapError(
      429, headers, R"({"error":{"type":"insufficient_quota","code":"insufficient_quota"}})",
      provider());
  EXPECT_EQ(quota.code, "upstream_quota_exhausted");
  EXPECT_FALSE(quota.retry_after.has_value());
}

TEST(OpenAiAdapterTest, StatusClasses) {
  OpenAiAdapter adapter(config::ProviderKind::kOpenAI);
  EXPECT_EQ(adapter.mapError(500, {}, R"({"error":{"message":"boom"}})", provider()).code,
            "upstream_server_error");
  EXPECT_EQ(adapter.mapError(502, {}, "<html>bad gateway</html>", provider()).code,
            "upstream_protocol_error");
  EXPECT_EQ(adapter.mapError(500, {}, "<html>oops</html>", provider()).code,
            "upstream_protocol_error");
  EXPECT_EQ(adapter.mapError(503, {}, "", provider()).code, "upstream_overloaded");
  EXPECT_EQ(adapter.mapError(529, {}, "", provider()).status, 503);
  api::ApiError bad =
      adapter.mapError(400, {}, R"({"error":{"message":"Model Not Exist"}})", provider());
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.code, "upstream_invalid_request");
  EXPECT_NE(bad.message.find("Model Not Exist"), std::string::npos);
  EXPECT_TRUE(
      adapter.mapError(502, {}, std::string(10000, 'x'), provider()).provider_error->is_string());
}

}  // namespace
}  // namespace llmgate::proxy::providers
