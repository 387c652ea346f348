// checkUnaryAnswer: the checks on a 2xx non-streamed answer and the summary
// the request path reads (usage, finish_reason, storable) instead of a DOM.
#include "gtest/gtest.h"
#include "proxy/handlers/upstream_exchange.h"
#include "proxy/providers/anthropic_adapter.h"
#include "proxy/providers/openai_adapter.h"

namespace llmgate::proxy::handlers {
namespace {

namespace http = boost::beast::http;

upstream::UpstreamCall::ResponseHeader jsonHeader(std::string_view content_type) {
  upstream::UpstreamCall::ResponseHeader header;
  header.result(http::status::ok);
  if (!content_type.empty()) header.set(http::field::content_type, content_type);
  return header;
}

std::string problemOf(std::string body, std::string_view content_type = "application/json") {
  const UnaryAnswer answer = checkUnaryAnswer(jsonHeader(content_type), std::move(body));
  return answer.problem ? answer.problem->detail : std::string("(none)");
}

TEST(CheckUnaryAnswerTest, ProtocolErrorsKeepTheirWording) {
  EXPECT_EQ(problemOf("{}", ""), "HTTP 200 without Content-Type: application/json");
  EXPECT_EQ(problemOf("{}", "text/html"), "HTTP 200 without Content-Type: application/json");
  EXPECT_EQ(problemOf(" \r\n"), "an empty body with HTTP 200");
  EXPECT_EQ(problemOf("<html>"), "a body that is not a JSON object (syntax error)");
  EXPECT_EQ(problemOf(R"({"id":"x","choices":[)"),
            "a body that is not a JSON object (incomplete JSON)");
  EXPECT_EQ(problemOf("{} {}"), "a body that is not a JSON object (extra data)");
  EXPECT_EQ(problemOf("[1,2]"), "a body that is not a JSON object (wrong type)");
  EXPECT_EQ(problemOf("{}"), "(none)");
}

TEST(CheckUnaryAnswerTest, DropsLeadingBlankLinesAndSummarizes) {
  const UnaryAnswer answer = checkUnaryAnswer(
      jsonHeader("application/json; charset=utf-8"),
      "\n\n \r\n{\"object\":\"chat.completion\",\"created\":5,\"choices\":[{\"message\":{},"
      "\"finish_reason\":\"length\"}],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":4}}");
  ASSERT_FALSE(answer.problem);
  EXPECT_EQ(answer.body.front(), '{');
  EXPECT_EQ(answer.summary.finishReason(), "length");
  EXPECT_FALSE(answer.summary.storable());
  ASSERT_TRUE(answer.summary.usage);
  EXPECT_EQ(answer.summary.usage->prompt_tokens, 3u);
  EXPECT_EQ(answer.summary.usage->completion_tokens, 4u);
  EXPECT_EQ(answer.summary.created, 5);
}

TEST(TranslateUnaryAnswerTest, SummaryIsTheTranslatedAnswers) {
  UnaryAnswer answer =
      checkUnaryAnswer(jsonHeader("application/json"),
                       R"({"id":"msg_1","type":"message","role":"assistant","model":"claude",
          "content":[{"type":"text","text":"Hi"}],"stop_reason":"max_tokens",
          "usage":{"input_tokens":11,"output_tokens":2}})");
  ASSERT_FALSE(answer.problem);
  EXPECT_FALSE(answer.summary.usage.has_value() && answer.summary.usage->prompt_tokens == 11)
      << "Anthropic's usage has other names before translation";
  translateUnaryAnswer(answer, providers::AnthropicAdapter());
  ASSERT_FALSE(answer.problem);
  EXPECT_NE(answer.body.find("\"chat.completion\""), std::string::npos);
  EXPECT_EQ(answer.summary.finishReason(), "length");
  ASSERT_TRUE(answer.summary.usage);
  EXPECT_EQ(answer.summary.usage->prompt_tokens, 11u);
  EXPECT_EQ(answer.summary.usage->completion_tokens, 2u);
  EXPECT_GT(answer.summary.created, 0);
}

TEST(TranslateUnaryAnswerTest, UntranslatableIsAProtocolError) {
  UnaryAnswer answer = checkUnaryAnswer(jsonHeader("application/json"), R"({"type":"error"})");
  ASSERT_FALSE(answer.problem);
  translateUnaryAnswer(answer, providers::AnthropicAdapter());
  ASSERT_TRUE(answer.problem);
  EXPECT_EQ(answer.problem->detail, "an answer that is not in the provider's documented format");
}

}  // namespace
}  // namespace llmgate::proxy::handlers
