#include "proxy/cache/value_codec.h"

#include "gtest/gtest.h"

namespace llmgate::proxy::cache {
namespace {

CachedResponse sample() {
  CachedResponse r;
  r.body = R"({"object":"chat.completion","choices":[]})";
  r.model = "gpt-4o";
  r.provider = "openai";
  r.prompt_tokens = 12;
  r.cached_prompt_tokens = 4;
  r.completion_tokens = 9;
  r.created = 1700000000;
  return r;
}

TEST(ValueCodec, RoundTrip) {
  const auto frame = encodeCachedResponse(sample());
  EXPECT_EQ(frame.substr(0, 3), "LG1");
  const auto decoded = decodeCachedResponse(frame);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(decoded->body, sample().body);
  EXPECT_EQ(decoded->model, "gpt-4o");
  EXPECT_EQ(decoded->provider, "openai");
  EXPECT_EQ(decoded->prompt_tokens, 12u);
  EXPECT_EQ(decoded->cached_prompt_tokens, 4u);
  EXPECT_EQ(decoded->completion_tokens, 9u);
  EXPECT_EQ(decoded->created, 1700000000);
}

TEST(ValueCodec, EveryCorruptionIsAMiss) {
  const auto frame = encodeCachedResponse(sample());
  // Every single-byte flip and every truncation.
  for (std::size_t i = 0; i < frame.size(); ++i) {
    std::string bad = frame;
    bad[i] ^= 0x20;
    EXPECT_FALSE(decodeCachedResponse(bad)) << "flip at " << i;
    EXPECT_FALSE(decodeCachedResponse(std::string_view(frame).substr(0, i))) << "cut at " << i;
  }
  EXPECT_FALSE(decodeCachedResponse(frame + "x"));
  EXPECT_FALSE(decodeCachedResponse("LG2" + frame.substr(3)));
  EXPECT_FALSE(decodeCachedResponse(""));
  EXPECT_FALSE(decodeCachedResponse("some other program's value"));
}

}  // namespace
}  // namespace llmgate::proxy::cache
