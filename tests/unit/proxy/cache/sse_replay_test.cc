#include "proxy/cache/sse_replay.h"

#include <string>
#include <vector>

#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "gtest/gtest.h"
#include "proxy/api/sse_parser.h"

namespace llmgate::proxy::cache {
namespace {

namespace bj = boost::json;

constexpr std::string_view kText = R"({
  "id": "chatcmpl-123", "object": "chat.completion", "created": 1700000000, "model": "gpt-4o-2024-08-06",
  "system_fingerprint": "fp_1",
  "choices": [{"index": 0, "message": {"role": "assistant",
    "content": "Héllo wörld, this is a longer answer that will be split into a few pieces so the replay has several content deltas. 日本語のテキストも含む。",
    "refusal": null}, "logprobs": null, "finish_reason": "stop"}],
  "usage": {"prompt_tokens": 10, "completion_tokens": 20, "total_tokens": 30,
            "prompt_tokens_details": {"cached_tokens": 0}}
})";

constexpr std::string_view kTools = R"({
  "id": "chatcmpl-9", "object": "chat.completion", "created": 1700000001, "model": "gpt-4o",
  "choices": [{"index": 0, "message": {"role": "assistant", "content": null,
    "tool_calls": [
      {"id": "call_a", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\",\"unit\":\"celsius\",\"days\":3,\"details\":[\"wind\",\"rain\",\"humidity\",\"uv\"]}"}},
      {"id": "call_b", "type": "function", "function": {"name": "get_time", "arguments": "{}"}}]},
    "logprobs": null, "finish_reason": "tool_calls"}],
  "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}
})";

struct Replayed {
  std::vector<bj::object> chunks;
  bool done = false;
  bool anything_after_done = false;
};

Replayed parse(const std::string& sse) {
  Replayed out;
  api::SseParser parser;
  EXPECT_TRUE(parser.feed(sse, [&](const api::SseEvent& e) {
    if (out.done) out.anything_after_done = true;
    if (e.kind == api::SseEvent::Kind::kDone) {
      out.done = true;
      return;
    }
    ASSERT_EQ(e.kind, api::SseEvent::Kind::kData);
    boost::system::error_code ec;
    auto v = bj::parse(e.data, ec);
    ASSERT_FALSE(ec) << e.data;
    out.chunks.push_back(v.as_object());
  }));
  EXPECT_EQ(parser.pendingBytes(), 0u);
  return out;
}

// Accumulates chunks the way the OpenAI SDKs' ChatCompletionStream does.
bj::object accumulate(const std::vector<bj::object>& chunks) {
  bj::object message;
  std::string content;
  bj::array tool_calls;
  bj::value finish;
  for (const auto& chunk : chunks) {
    for (const auto& c : chunk.at("choices").as_array()) {
      const auto& delta = c.at("delta").as_object();
      if (auto* role = delta.if_contains("role")) message["role"] = *role;
      if (auto* text = delta.if_contains("content"); text && text->is_string()) {
        content += text->as_string();
      }
      if (auto* calls = delta.if_contains("tool_calls")) {
        for (const auto& call : calls->as_array()) {
          const auto index = call.at("index").as_int64();
          if (static_cast<std::size_t>(index) >= tool_calls.size()) {
            bj::object fresh = call.as_object();
            fresh.erase("index");
            tool_calls.push_back(fresh);
          } else {
            auto& fn = tool_calls[index].as_object()["function"].as_object();
            fn["arguments"] = std::string(fn["arguments"].as_string()) +
                              std::string(call.at("function").at("arguments").as_string());
          }
        }
      }
      if (!c.at("finish_reason").is_null()) finish = c.at("finish_reason");
    }
  }
  message["content"] = content;
  if (!tool_calls.empty()) message["tool_calls"] = tool_calls;
  bj::object out;
  out["message"] = message;
  out["finish_reason"] = finish;
  return out;
}

CachedResponse cached(std::string_view body) {
  auto r = makeCachedResponse(std::string(body), "gpt-4o", "openai");
  EXPECT_TRUE(r);
  return *r;
}

TEST(SseReplay, TextAnswerWithoutUsage) {
  const auto sse = toSseReplay(cached(kText), false);
  const auto r = parse(sse);
  EXPECT_TRUE(r.done);
  EXPECT_FALSE(r.anything_after_done);
  EXPECT_TRUE(sse.ends_with("data: [DONE]\n\n"));
  ASSERT_GE(r.chunks.size(), 4u);  // role, >= 2 content pieces, finish
  for (const auto& c : r.chunks) {
    EXPECT_EQ(c.at("object"), "chat.completion.chunk");
    EXPECT_EQ(c.at("id"), "chatcmpl-123");
    EXPECT_EQ(c.at("created"), 1700000000);
    EXPECT_EQ(c.at("model"), "gpt-4o-2024-08-06");
    EXPECT_EQ(c.at("system_fingerprint"), "fp_1");
    EXPECT_FALSE(c.contains("usage"));
    EXPECT_EQ(c.at("choices").as_array().size(), 1u);
  }
  EXPECT_EQ(r.chunks.front().at("choices").at(0).at("delta").at("role"), "assistant");
  const auto acc = accumulate(r.chunks);
  const bj::value doc = bj::parse(kText);
  const auto& original = doc.at("choices").at(0);
  EXPECT_EQ(acc.at("message").at("content"), original.at("message").at("content"));
  EXPECT_EQ(acc.at("finish_reason"), "stop");
  const auto& last = r.chunks.back().at("choices").at(0).as_object();
  EXPECT_TRUE(last.at("delta").as_object().empty());
  EXPECT_EQ(last.at("finish_reason"), "stop");
}

TEST(SseReplay, UsageChunkOnlyWhenAsked) {
  const auto r = parse(toSseReplay(cached(kText), true));
  ASSERT_GE(r.chunks.size(), 2u);
  for (std::size_t i = 0; i + 1 < r.chunks.size(); ++i) {
    EXPECT_TRUE(r.chunks[i].at("usage").is_null());
  }
  const auto& usage_chunk = r.chunks.back();
  EXPECT_TRUE(usage_chunk.at("choices").as_array().empty());
  EXPECT_EQ(usage_chunk.at("usage").at("total_tokens"), 30);
  // The finish chunk comes before the usage chunk.
  EXPECT_EQ(r.chunks[r.chunks.size() - 2].at("choices").at(0).at("finish_reason"), "stop");
}

TEST(SseReplay, ToolCalls) {
  const auto r = parse(toSseReplay(cached(kTools), false));
  ASSERT_TRUE(r.done);
  const auto acc = accumulate(r.chunks);
  const bj::value doc = bj::parse(kTools);
  const auto& original = doc.at("choices").at(0).at("message").at("tool_calls");
  EXPECT_EQ(acc.at("message").at("tool_calls"), original) << bj::serialize(acc);
  EXPECT_EQ(acc.at("finish_reason"), "tool_calls");
  EXPECT_EQ(acc.at("message").at("content"), "");
}

TEST(SseReplay, ContentSplitKeepsUtf8Whole) {
  CachedResponse r = cached(kText);
  const auto replay = parse(toSseReplay(r, false));
  for (const auto& c : replay.chunks) {
    const auto& delta = c.at("choices").at(0).at("delta").as_object();
    if (auto* text = delta.if_contains("content")) {
      // Boost.JSON refused the chunk if a piece had split a UTF-8 sequence
      // into invalid bytes; check the piece is non-empty too (except role's "").
      EXPECT_TRUE(text->is_string());
    }
  }
}

TEST(SseReplay, NotACompletionIsEmpty) {
  CachedResponse r;
  r.body = "not json";
  EXPECT_EQ(toSseReplay(r, true), "");
}

TEST(Storable, OnlyCompleteSuccessfulCompletions) {
  auto storable = [](std::string_view text) {
    return makeCachedResponse(std::string(text), "m", "p").has_value();
  };
  EXPECT_TRUE(storable(kText));
  EXPECT_TRUE(storable(kTools));
  const std::string length = [] {
    std::string s(kText);
    s.replace(s.find("\"stop\""), 6, "\"length\"");
    return s;
  }();
  EXPECT_FALSE(storable(length));
  EXPECT_FALSE(storable(R"({"error":{"message":"x"}})"));
  EXPECT_FALSE(storable(R"({"object":"chat.completion","choices":[]})"));
  EXPECT_FALSE(storable(R"({"object":"chat.completion.chunk","choices":[]})"));
  EXPECT_FALSE(storable(
      R"({"object":"chat.completion","choices":[{"message":{"content":"x"},"finish_reason":null}]})"));
  EXPECT_FALSE(storable(
      R"({"object":"chat.completion","choices":[{"message":{"content":"x"},"finish_reason":"content_filter"}]})"));
  EXPECT_FALSE(storable("{\"object\":\"chat.completion\""));  // cut
  const auto r = makeCachedResponse(std::string(kText), "gpt-4o", "openai");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->prompt_tokens, 10u);
  EXPECT_EQ(r->completion_tokens, 20u);
  EXPECT_EQ(r->created, 1700000000);
}

}  // namespace
}  // namespace llmgate::proxy::cache
