// serializeChatBody must give the bytes of the copy-then-serialize path it
// replaces: the OpenAI adapter's prepareChatBody on a copy, the output limit
// set, boost::json::serialize.
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "gtest/gtest.h"
#include "proxy/handlers/upstream_exchange.h"
#include "proxy/providers/openai_adapter.h"

namespace llmgate::proxy::handlers {
namespace {

namespace json = boost::json;

std::string viaCopy(const json::object& body, const config::ModelConfig& model,
                    std::string_view limit_key, std::uint64_t limit) {
  json::object copy = body;
  providers::OpenAiAdapter(config::ProviderKind::kOpenAI).prepareChatBody(copy, model);
  copy[limit_key] = limit;
  return json::serialize(copy);
}

TEST(SerializeChatBodyTest, SameBytesAsCopyingTheObject) {
  config::ModelConfig model;
  model.upstream_model = "gpt-4o-mini-2024-07-18 \"quoted\" \xc3\xa9";
  const char* bodies[] = {
      R"({"model":"m","messages":[{"role":"user","content":"hi \"there\"\n\u00e9\u4e2d"}],"temperature":0.7})",
      R"({"messages":[{"role":"user","content":"x"}],"max_tokens":50,"model":"m","n":1,"seed":-3})",
      R"({"model":"m","max_completion_tokens":9,"stream":true,"stream_options":{"include_usage":true}})",
      R"({"model":"m","tools":[{"type":"function","function":{"name":"f","parameters":{"a":[1,2.5,null,true,1e300]}}}],"stop":["\n","\t"]})",
      R"({"model":"m","user":"\u0001\u001f\/","logit_bias":{"50256":-100},"top_p":1.0,"x":18446744073709551615})",
  };
  for (const char* text : bodies) {
    SCOPED_TRACE(text);
    const json::object body = json::parse(text).as_object();
    const std::string_view key =
        body.contains("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
    for (std::uint64_t limit : {std::uint64_t{1}, std::uint64_t{4096}, std::uint64_t{123456789}}) {
      EXPECT_EQ(serializeChatBody(body, model.upstream_model, key, limit),
                viaCopy(body, model, key, limit));
    }
  }
}

TEST(SerializeChatBodyTest, ReplacesModelAndLimitInPlace) {
  const json::object body = json::parse(R"({"model":"a","max_tokens":5,"n":1})").as_object();
  EXPECT_EQ(serializeChatBody(body, "b", "max_tokens", 7), R"({"model":"b","max_tokens":7,"n":1})");
  const json::object bare = json::parse(R"({"n":1})").as_object();
  EXPECT_EQ(serializeChatBody(bare, "b", "max_tokens", 7), R"({"n":1,"model":"b","max_tokens":7})");
}

TEST(SerializeChatBodyTest, OnlyOpenAiStyleAdaptersQualify) {
  EXPECT_TRUE(providers::OpenAiAdapter(config::ProviderKind::kOpenAI).onlyRenamesModel());
  EXPECT_FALSE(providers::OpenAiAdapter(config::ProviderKind::kMistral).onlyRenamesModel());
}

}  // namespace
}  // namespace llmgate::proxy::handlers
