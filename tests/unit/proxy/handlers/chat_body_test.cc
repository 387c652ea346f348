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

// spliceChatBody keeps the client's bytes and changes only the two values:
// the result parses to what serializeChatBody would send.
TEST(SpliceChatBodyTest, SameJsonAsSerializingWithTheClientsBytesKept) {
  const char* bodies[] = {
      R"({"model":"m","messages":[{"role":"user","content":"hi \"there\" {[}] , : \\"}],"temperature":0.7})",
      " { \"messages\" : [ {\"role\":\"user\",\"content\":\"x\"} ] ,\n \"max_tokens\" : 50 , "
      "\"model\" : \"m\" } ",
      R"({"model":"m","max_completion_tokens":9,"stream":true,"stream_options":{"include_usage":true}})",
      R"({"model":"m","tools":[{"type":"function","function":{"name":"f","parameters":{"a":[1,2.5,null,true,-1e300]}}}],"stop":["\n","\t"],"max_tokens":null})",
      R"({"max_tokens":1,"model":"m","max_completion_tokens":2,"x":{"model":"inner","max_tokens":3}})",
      R"({"model":"m","messages":[],"n":1})",
  };
  for (const char* text : bodies) {
    SCOPED_TRACE(text);
    const json::object body = json::parse(text).as_object();
    const std::string_view key =
        body.contains("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
    const auto spliced = spliceChatBody(text, "up \"model\" \xc3\xa9", key, 4096);
    ASSERT_TRUE(spliced.has_value());
    EXPECT_EQ(json::parse(*spliced),
              json::parse(serializeChatBody(body, "up \"model\" \xc3\xa9", key, 4096)));
  }
}

TEST(SpliceChatBodyTest, ReplacesOnlyTheValues) {
  EXPECT_EQ(spliceChatBody(R"({ "model" : "a", "max_tokens": 5, "n":1 })", "b", "max_tokens", 7),
            R"({ "model" : "b", "max_tokens": 7, "n":1 })");
  EXPECT_EQ(spliceChatBody(R"({"n":1.0,"model":"a"} )", "b", "max_tokens", 7),
            R"({"n":1.0,"model":"b","max_tokens":7} )");
  EXPECT_EQ(spliceChatBody(R"({"max_tokens":5,"model":"a"})", "b", "max_tokens", 7),
            R"({"max_tokens":7,"model":"b"})");
}

TEST(SpliceChatBodyTest, FallsBackWhenAKeyIsEscapedOrModelMissing) {
  EXPECT_FALSE(spliceChatBody(R"({"mod\u0065l":"a"})", "b", "max_tokens", 7).has_value());
  EXPECT_FALSE(spliceChatBody(R"({"n":1})", "b", "max_tokens", 7).has_value());
  EXPECT_FALSE(spliceChatBody(R"([1])", "b", "max_tokens", 7).has_value());
}

}  // namespace
}  // namespace llmgate::proxy::handlers
