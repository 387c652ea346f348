// serializeChatBody must give the bytes of the copy-then-serialize path it
// replaces: the OpenAI adapter's prepareChatBody on a copy, the output limit
// set, boost::json::serialize.
#include <algorithm>
#include <random>
#include <vector>

#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "common/json/strict_parse.h"
#include "common/text/str_cat.h"
#include "gtest/gtest.h"
#include "proxy/api/chat_request.h"
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

// spliceChatBody at the key offsets the strict parser reports (as
// parseChatRequest takes them), for a body that does not spell the limit key
// with escapes.
std::optional<std::string> splice(std::string_view text, std::string_view model,
                                  std::string_view limit_key, std::uint64_t limit) {
  const llmgate::json::StrictParseResult parsed = llmgate::json::parseStrict(text);
  std::size_t model_at = std::string_view::npos;
  std::size_t limit_at = std::string_view::npos;
  for (std::string_view key : parsed.top_level_keys) {
    const std::size_t at = static_cast<std::size_t>(key.data() - text.data()) - 1;
    if (key == "model") model_at = at;
    if (key == limit_key) limit_at = at;
  }
  return spliceChatBody(text, model_at, limit_at, model, limit_key, limit);
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
    const auto spliced = splice(text, "up \"model\" \xc3\xa9", key, 4096);
    ASSERT_TRUE(spliced.has_value());
    EXPECT_EQ(json::parse(*spliced),
              json::parse(serializeChatBody(body, "up \"model\" \xc3\xa9", key, 4096)));
  }
}

// The model's value is written as Boost.JSON's serializer writes a string,
// byte for byte, whatever the configured name holds.
TEST(SpliceChatBodyTest, ModelIsEscapedAsBoostJsonWouldEscapeIt) {
  const std::string odd_names[] = {"gpt-4o",
                                   "a\"b\\c",
                                   "tab\there\nnl",
                                   std::string("\x01\x1f\x7f", 3),
                                   "caf\xc3\xa9 \xe4\xbd\xa0",
                                   "slash/ok",
                                   std::string("nul\0x", 5)};
  for (const std::string& name : odd_names) {
    const auto spliced = splice(R"({"model":"a","n":1})", name, "max_tokens", 7);
    ASSERT_TRUE(spliced.has_value()) << name;
    EXPECT_EQ(*spliced, strCat(R"({"model":)", json::serialize(json::string(name)),
                               R"(,"n":1,"max_tokens":7})"))
        << name;
  }
}

TEST(SpliceChatBodyTest, ReplacesOnlyTheValues) {
  EXPECT_EQ(splice(R"({ "model" : "a", "max_tokens": 5, "n":1 })", "b", "max_tokens", 7),
            R"({ "model" : "b", "max_tokens": 7, "n":1 })");
  EXPECT_EQ(splice(R"({"n":1.0,"model":"a"} )", "b", "max_tokens", 7),
            R"({"n":1.0,"model":"b","max_tokens":7} )");
  EXPECT_EQ(splice(R"({"max_tokens":5,"model":"a"})", "b", "max_tokens", 7),
            R"({"max_tokens":7,"model":"b"})");
}

TEST(SpliceChatBodyTest, FallsBackWhenAKeyIsEscapedOrModelMissing) {
  EXPECT_FALSE(splice(R"({"mod\u0065l":"a"})", "b", "max_tokens", 7).has_value());
  EXPECT_FALSE(splice(R"({"n":1})", "b", "max_tokens", 7).has_value());
  EXPECT_FALSE(splice(R"([1])", "b", "max_tokens", 7).has_value());
}

// Random bodies whose nested values are full of what the scanner must get
// right: quotes, backslashes and brackets inside strings, escaped quotes
// before a closing bracket, long runs of text across 16-byte blocks, deep
// nesting, whitespace. The splice must parse to the serialized answer and
// keep every byte outside the two values.
class RandomBody {
 public:
  explicit RandomBody(std::uint32_t seed) : rng_(seed) {}

  std::string next(bool& has_limit) {
    std::vector<std::string> members = {R"("model":)" + string()};
    has_limit = pick(2) == 0;
    if (has_limit) members.push_back(R"("max_tokens":)" + std::to_string(pick(900)));
    for (int i = pick(5); i > 0; --i)
      members.push_back(R"("k)" + std::to_string(i) + R"(":)" + value(0));
    std::shuffle(members.begin(), members.end(), rng_);
    std::string out = space() + "{";
    for (std::size_t i = 0; i < members.size(); ++i) {
      if (i) out += "," + space();
      out += members[i];
    }
    return out + space() + "}" + space();
  }

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  std::string space() { return std::string(pick(3) == 0 ? pick(3) : 0, " \n\t"[pick(3)]); }

  std::string string() {
    static const char* const kPieces[] = {"a", "text ", "\\\"",    "\\\\",     "{",   "}",  "[",
                                          "]", "\\n",   "\\u00e9", "\xc3\xa9", ", :", "\\/"};
    std::string out = "\"";
    for (int i = pick(4) == 0 ? 40 : pick(8); i > 0; --i) out += kPieces[pick(13)];
    if (pick(6) == 0) out += "\\\\";  // a string ending in an escaped backslash
    return out + "\"";
  }

  std::string value(int depth) {
    switch (depth > 4 ? 3 + pick(3) : pick(6)) {
      case 0:
      case 1: {
        std::string out = "[" + space();
        for (int i = pick(4); i > 0; --i) out += value(depth + 1) + (i > 1 ? "," : "") + space();
        return out + "]";
      }
      case 2: {
        std::string out = "{";
        for (int i = pick(4); i > 0; --i) {
          out += string() + space() + ":" + space() + value(depth + 1) + (i > 1 ? "," : "");
        }
        return out + "}";
      }
      case 3:
        return string();
      case 4:
        return std::to_string(pick(1000) - 500);
      default:
        return pick(2) ? "true" : "null";
    }
  }

  std::mt19937 rng_;
};

// renamedChatBody: the request as parseChatRequest gives it. Spliced when
// the keys are plain (bytes kept), serialized when "model" or the limit key
// present is written with escapes: never a second limit key.
std::string renamed(std::string_view text, std::uint64_t limit) {
  const api::ApiResult<api::ChatRequest> parsed = api::parseChatRequest(text);
  EXPECT_TRUE(std::holds_alternative<api::ChatRequest>(parsed)) << text;
  return renamedChatBody(std::get<api::ChatRequest>(parsed), text, "up", limit);
}

TEST(RenamedChatBodyTest, SplicesPlainKeysAndSerializesEscapedOnes) {
  constexpr std::string_view kMessages = R"("messages":[{"role":"user","content":"hi"}])";
  // Plain keys: the client's bytes (spacing kept), values replaced.
  EXPECT_EQ(renamed(strCat(R"({ "model" : "m", )", kMessages, R"(, "max_tokens" : 5 })"), 9),
            strCat(R"({ "model" : "up", )", kMessages, R"(, "max_tokens" : 9 })"));
  EXPECT_EQ(renamed(strCat(R"({"model":"m",)", kMessages, "}"), 9),
            strCat(R"({"model":"up",)", kMessages, R"(,"max_tokens":9})"));
  EXPECT_EQ(
      renamed(
          strCat(R"({"max_completion_tokens":4,"model":"m",)", kMessages, R"(,"max_tokens":3})"),
          9),
      strCat(R"({"max_completion_tokens":9,"model":"up",)", kMessages, R"(,"max_tokens":3})"));
  // Escaped spellings: serialized, one key each.
  for (std::string_view text :
       {std::string_view(R"({"mod\u0065l":"m","messages":[{"role":"user","content":"hi"}]})"),
        std::string_view(
            R"({"model":"m","messages":[{"role":"user","content":"hi"}],"max_tok\u0065ns":5})"),
        std::string_view(R"({"model":"m","messages":[{"role":"user","content":"hi"}],)"
                         R"("max_completion_tok\u0065ns":5,"max_tokens":2})")}) {
    SCOPED_TRACE(text);
    const std::string body = renamed(text, 9);
    const llmgate::json::StrictParseResult sent = llmgate::json::parseStrict(body);
    ASSERT_TRUE(sent.ok) << sent.error << " in " << body;  // no duplicate key
    EXPECT_EQ(sent.value.at("model"), "up");
    const std::string_view limit_key = sent.value.as_object().contains("max_completion_tokens")
                                           ? "max_completion_tokens"
                                           : "max_tokens";
    EXPECT_EQ(sent.value.at(limit_key), 9);
  }
}

TEST(SpliceChatBodyTest, RandomBodiesFullOfBracketsAndEscapes) {
  RandomBody gen(99);
  int spliced_bodies = 0;
  for (int i = 0; i < 3000; ++i) {
    bool has_limit = false;
    const std::string text = gen.next(has_limit);
    SCOPED_TRACE(text);
    boost::system::error_code ec;
    json::value parsed = json::parse(text, ec);
    ASSERT_FALSE(ec) << ec.message();
    // Random nested keys may repeat: such bodies never get this far (400).
    if (!llmgate::json::parseStrict(text).ok) continue;
    ++spliced_bodies;
    const auto spliced = splice(text, "new", "max_tokens", 77);
    ASSERT_TRUE(spliced.has_value());
    json::object want = parsed.as_object();
    want["model"] = "new";
    want["max_tokens"] = 77;
    ASSERT_EQ(json::parse(*spliced), json::value(want)) << *spliced;
    // The bytes are the client's up to the first of the two values.
    const std::size_t limit_at = text.find(R"("max_tokens":)");
    const std::size_t first = std::min(text.find(R"("model":)") + 8,
                                       limit_at == std::string::npos ? text.size() : limit_at + 13);
    ASSERT_EQ(spliced->substr(0, first), text.substr(0, first));
  }
  EXPECT_GT(spliced_bodies, 2000);
}

}  // namespace
}  // namespace llmgate::proxy::handlers
