#include "proxy/api/chat_request.h"

#include <gtest/gtest.h>

#include "proxy/api/content_type.h"

namespace llmgate::proxy::api {
namespace {

ApiError errorOf(std::string_view body) {
  auto result = parseChatRequest(body);
  EXPECT_TRUE(std::holds_alternative<ApiError>(result)) << body;
  return std::holds_alternative<ApiError>(result) ? std::get<ApiError>(result) : ApiError{};
}

TEST(ChatRequestTest, AcceptsAMinimalRequestAndKeepsTheBody) {
  const std::string_view text =
      R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":true,
          "stream_options":{"include_usage":true},"max_tokens":50,"custom_field":[1,2]})";
  auto result = parseChatRequest(text);
  ASSERT_TRUE(std::holds_alternative<ChatRequest>(result));
  const ChatRequest& req = std::get<ChatRequest>(result);
  EXPECT_EQ(req.model, "gpt-4o-mini");
  EXPECT_TRUE(req.stream);
  EXPECT_TRUE(req.include_usage);
  EXPECT_EQ(req.max_tokens, 50);
  EXPECT_EQ(req.text().data(), text.data());  // not copied
  EXPECT_TRUE(req.body().contains("custom_field"));
  // The DOM lives in the request's own arena, held by pointer (not shared),
  // so that destroying it is skipped.
  EXPECT_TRUE(req.body().storage().is_not_shared_and_deallocate_is_trivial());
  ASSERT_NE(req.body().if_contains("messages"), nullptr);
  EXPECT_EQ(req.body().at("messages").storage().get(), req.body().storage().get());
  EXPECT_EQ(&req.body(), &req.body());  // built once
}

// Where "model" and the limit keys start (their opening quote), for the
// upstream splice; npos when absent or written with escapes.
TEST(ChatRequestTest, KeyOffsetsPointAtTheKeys) {
  const std::string_view text =
      R"({"messages":[{"role":"user","content":"x","model":"no"}], "model":"m", "max_tokens":5})";
  auto result = parseChatRequest(text);
  ASSERT_TRUE(std::holds_alternative<ChatRequest>(result));
  const ChatRequest::KeyOffsets& at = std::get<ChatRequest>(result).key_at;
  EXPECT_EQ(at.model, text.find(R"("model":"m")"));
  EXPECT_EQ(at.max_tokens, text.find(R"("max_tokens")"));
  EXPECT_EQ(at.max_completion_tokens, std::string_view::npos);
  const std::string_view escaped_text =
      R"({"mod\u0065l":"m","messages":[{"role":"user","content":"x"}],"max_completion_tokens":3})";
  auto escaped = parseChatRequest(escaped_text);
  ASSERT_TRUE(std::holds_alternative<ChatRequest>(escaped));
  EXPECT_EQ(std::get<ChatRequest>(escaped).key_at.model, std::string_view::npos);
  EXPECT_EQ(std::get<ChatRequest>(escaped).key_at.max_completion_tokens,
            escaped_text.find(R"("max_completion_tokens")"));
}

TEST(ChatRequestTest, MalformedJsonIsInvalidJson) {
  for (std::string_view body :
       {R"({"model":"x","messages":[)", R"({"model":"x"} trailing)", R"({"temperature":NaN})",
        R"({"model":"a","model":"b","messages":[]})", R"([{"model":"x"}])", "", "null"}) {
    const ApiError e = errorOf(body);
    EXPECT_EQ(e.status, 400) << body;
    EXPECT_EQ(e.code, "invalid_json") << body;
  }
}

TEST(ChatRequestTest, DuplicateKeysAreFoundAlsoWhenEscapedOrNested) {
  EXPECT_EQ(errorOf(R"({"model":"a","mod\u0065l":"b","messages":[]})").code, "invalid_json");
  EXPECT_EQ(
      errorOf(R"({"model":"a","messages":[{"role":"user","content":"x"},{"x":{"k":1,"k":2}}]})")
          .code,
      "invalid_json");
  // The same key in sibling objects is fine.
  auto ok = parseChatRequest(
      R"({"model":"m","messages":[{"role":"user","content":"a"},{"role":"user","content":"b"}]})");
  EXPECT_TRUE(std::holds_alternative<ChatRequest>(ok));
}

TEST(ChatRequestTest, DuplicateKeysAreNamed) {
  const ApiError e =
      errorOf(R"({"model":"a","messages":[{"role":"user","content":"x","role":"system"}]})");
  EXPECT_EQ(e.code, "invalid_json");
  EXPECT_NE(e.message.find("duplicate key \"role\""), std::string::npos) << e.message;
}

struct FieldCase {
  std::string body;
  std::string param;
};

TEST(ChatRequestTest, WrongTypesAndRangesNameTheField) {
  const std::string msgs = R"("messages":[{"role":"user","content":"hi"}])";
  const std::vector<FieldCase> cases = {
      {R"({"model":"m","messages":"hello"})", "messages"},
      {R"({"model":"m","messages":[]})", "messages"},
      {R"({"model":"m","messages":[{"role":"wizard","content":"x"}]})", "messages[0].role"},
      {R"({"model":"m","messages":[{"role":"user"}]})", "messages[0].content"},
      {R"({"model":"m","messages":[{"role":"user","content":5}]})", "messages[0].content"},
      {"{\"model\":\"m\"," + msgs + ",\"temperature\":\"hot\"}", "temperature"},
      {"{\"model\":\"m\"," + msgs + ",\"temperature\":2.5}", "temperature"},
      {"{\"model\":\"m\"," + msgs + ",\"max_tokens\":-1}", "max_tokens"},
      {"{\"model\":\"m\"," + msgs + ",\"max_tokens\":1.5}", "max_tokens"},
      {"{\"model\":\"m\"," + msgs + ",\"n\":10000}", "n"},
      {"{\"model\":\"m\"," + msgs + ",\"stream\":\"yes\"}", "stream"},
      {"{\"model\":\"m\"," + msgs + ",\"top_p\":-0.1}", "top_p"},
      {"{\"model\":\"m\"," + msgs + ",\"stop\":[1]}", "stop"},
      {"{" + msgs + "}", "model"},
      {"{\"model\":7," + msgs + "}", "model"},
  };
  for (const auto& c : cases) {
    const ApiError e = errorOf(c.body);
    EXPECT_EQ(e.status, 400) << c.body;
    EXPECT_EQ(e.type, "invalid_request_error") << c.body;
    EXPECT_EQ(e.param.value_or(""), c.param) << c.body;
  }
}

TEST(ChatRequestTest, SteeringFieldsAreForbidden) {
  const ApiError top = errorOf(
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"api_base":"http://169.254.169.254"})");
  EXPECT_EQ(top.code, "forbidden_parameter");
  EXPECT_EQ(top.param.value_or(""), "api_base");
  const ApiError nested = errorOf(
      R"({"model":"m","messages":[{"role":"user","content":"x"}],"extra_body":{"api_key":"k"}})");
  EXPECT_EQ(nested.param.value_or(""), "extra_body.api_key");
}

TEST(ChatRequestTest, AssistantMayOmitContentWithToolCalls) {
  auto result = parseChatRequest(
      R"({"model":"m","messages":[{"role":"user","content":"x"},
          {"role":"assistant","content":null,"tool_calls":[]},{"role":"tool","content":"r","tool_call_id":"1"}]})");
  EXPECT_TRUE(std::holds_alternative<ChatRequest>(result));
}

TEST(ApiErrorTest, BodyIsOpenAiShaped) {
  ApiError e = ApiError::modelNotFound("nope");
  EXPECT_EQ(e.status, 404);
  EXPECT_EQ(e.body().find(R"({"error":{"message":)"), 0u) << e.body();
  EXPECT_NE(e.body().find(R"("param":"model")"), std::string::npos);
  EXPECT_NE(e.body().find(R"("code":"model_not_found")"), std::string::npos);
  EXPECT_EQ(e.sseEvent().rfind("data: {", 0), 0u);
  EXPECT_EQ(e.sseEvent().substr(e.sseEvent().size() - 2), "\n\n");
}

TEST(ApiErrorTest, EchoedTextIsSanitized) {
  ApiError e = ApiError::unknownUrl("GET", "/x\r\nSet-Cookie: a");
  EXPECT_EQ(e.message.find('\r'), std::string::npos);
  EXPECT_EQ(e.message.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace llmgate::proxy::api

namespace llmgate::proxy::api {
namespace {

TEST(ContentTypeTest, JsonMediaType) {
  for (std::string_view yes :
       {"application/json", "Application/JSON", "application/json; charset=utf-8",
        "application/json ;charset=utf-8"}) {
    EXPECT_TRUE(isJsonMediaType(yes)) << yes;
  }
  for (std::string_view no : {"", "text/html", "application/jsonl", "multipart/form-data",
                              "application/x-www-form-urlencoded", "text/event-stream"}) {
    EXPECT_FALSE(isJsonMediaType(no)) << no;
  }
}

}  // namespace
}  // namespace llmgate::proxy::api
