#include "proxy/cache/cache_key.h"

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "boost/json/parse.hpp"
#include "gtest/gtest.h"

namespace llmgate::proxy::cache {
namespace {

boost::json::object body(std::string_view text) { return boost::json::parse(text).as_object(); }

CacheKey key(std::string_view text, std::string_view tenant = "acme") {
  return makeCacheKey(tenant, "gpt-4o", "openai", "gpt-4o-2024-08-06", body(text));
}

constexpr std::string_view kBase = R"({
  "model": "gpt-4o",
  "messages": [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "name": "ann", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
    {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{\"x\":1}"}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": "42"}
  ],
  "temperature": 0,
  "top_p": 1,
  "max_tokens": 100,
  "stop": ["\n"],
  "n": 1,
  "seed": 7,
  "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}],
  "tool_choice": "auto",
  "response_format": {"type": "text"},
  "logit_bias": {"50256": -100},
  "presence_penalty": 0,
  "frequency_penalty": 0,
  "logprobs": false,
  "parallel_tool_calls": true
})";

TEST(CacheKey, Format) {
  const CacheKey k = key(kBase);
  ASSERT_EQ(k.value.size(), 2 + 1 + 16 + 1 + 64);
  EXPECT_EQ(k.value.substr(0, 3), "v1:");
  EXPECT_EQ(k.scope(), k.value.substr(0, 19));
  EXPECT_EQ(k.digest().size(), 64u);
  EXPECT_EQ(k.value[19], ':');
  EXPECT_EQ(k, key(kBase));
}

// R40: each pair differs in exactly one thing that can change the answer.
TEST(CacheKey, EverySemanticDifferenceChangesTheKey) {
  const std::vector<std::pair<std::string, std::string>> edits = {
      {"model", R"("gpt-4o-mini")"},
      {"temperature", "1"},
      {"temperature", "0.5"},
      {"top_p", "0.9"},
      {"max_tokens", "101"},
      {"max_completion_tokens", "100"},
      {"stop", R"(["\n\n"])"},
      {"stop", R"("\n")"},
      {"n", "2"},
      {"seed", "8"},
      {"tools", "[]"},
      {"tool_choice", R"("none")"},
      {"tool_choice", R"({"type":"function","function":{"name":"f"}})"},
      {"response_format", R"({"type":"json_object"})"},
      {"logit_bias", R"({"50256": -99})"},
      {"presence_penalty", "0.5"},
      {"frequency_penalty", "0.5"},
      {"logprobs", "true"},
      {"top_logprobs", "3"},
      {"parallel_tool_calls", "false"},
      {"some_future_field", "1"},
      {"reasoning_effort", R"("low")"},
  };
  std::set<std::string> seen = {key(kBase).value};
  for (const auto& [field, value] : edits) {
    auto b = body(kBase);
    b[field] = boost::json::parse(value);
    const auto k = makeCacheKey("acme", "gpt-4o", "openai", "gpt-4o-2024-08-06", b).value;
    EXPECT_TRUE(seen.insert(k).second) << field << "=" << value;
  }
}

TEST(CacheKey, TemperatureOmittedZeroAndOneDiffer) {
  auto omitted = body(kBase);
  omitted.erase("temperature");
  auto zero = body(kBase);
  auto one = body(kBase);
  one["temperature"] = 1;
  const auto k0 = makeCacheKey("t", "m", "p", "u", omitted);
  const auto k1 = makeCacheKey("t", "m", "p", "u", zero);
  const auto k2 = makeCacheKey("t", "m", "p", "u", one);
  EXPECT_NE(k0, k1);
  EXPECT_NE(k1, k2);
  EXPECT_NE(k0, k2);
}

TEST(CacheKey, MessageDetailsChangeTheKey) {
  const auto base = key(kBase);
  auto mutate = [&](auto&& f) {
    auto b = body(kBase);
    f(b["messages"].as_array());
    return makeCacheKey("acme", "gpt-4o", "openai", "gpt-4o-2024-08-06", b);
  };
  std::set<std::string> seen = {base.value};
  auto expect_new = [&](const CacheKey& k, const char* what) {
    EXPECT_TRUE(seen.insert(k.value).second) << what;
  };
  expect_new(mutate([](auto& m) { m[1].as_object()["name"] = "bob"; }), "name");
  expect_new(mutate([](auto& m) { m[1].as_object().erase("name"); }), "name removed");
  expect_new(mutate([](auto& m) { m[3].as_object()["tool_call_id"] = "call_2"; }), "tool_call_id");
  expect_new(mutate([](auto& m) {
               auto& parts = m[1].as_object()["content"].as_array();
               std::swap(parts[0], parts[1]);
             }),
             "content part order");
  expect_new(mutate([](auto& m) { m[0].as_object()["content"] = "You are verbose."; }),
             "system prompt");
  expect_new(mutate([](auto& m) { m[0].as_object()["role"] = "developer"; }), "role");
  expect_new(mutate([](auto& m) {
               m[2].as_object()["tool_calls"]
                   .as_array()[0]
                   .as_object()["function"]
                   .as_object()["arguments"] = "{\"x\":2}";
             }),
             "tool call arguments");
  expect_new(mutate([](auto& m) { m.erase(m.begin()); }), "history shortened");
  expect_new(mutate([](auto& m) { std::swap(m[0], m[1]); }), "message order");
}

TEST(CacheKey, ResolvedTargetAndTenantChangeTheKey) {
  const auto b = body(kBase);
  std::set<std::string> seen;
  EXPECT_TRUE(seen.insert(makeCacheKey("acme", "gpt-4o", "openai", "u", b).value).second);
  EXPECT_TRUE(seen.insert(makeCacheKey("acme", "gpt-4o-mini", "openai", "u", b).value).second);
  EXPECT_TRUE(seen.insert(makeCacheKey("acme", "gpt-4o", "azure", "u", b).value).second);
  EXPECT_TRUE(seen.insert(makeCacheKey("acme", "gpt-4o", "openai", "u2", b).value).second);
  EXPECT_TRUE(seen.insert(makeCacheKey("globex", "gpt-4o", "openai", "u", b).value).second);
}

// R69: the scope prefix is the tenant's alone; no body field moves it.
TEST(CacheKey, TenantScopeCannotBeChosenByTheBody) {
  auto a = makeCacheKey("acme", "m", "p", "u", body(kBase));
  auto b_body = body(kBase);
  b_body["user"] = "globex";
  b_body["tenant"] = "globex";
  b_body["metadata"] = boost::json::parse(R"({"tenant":"globex"})");
  auto b = makeCacheKey("acme", "m", "p", "u", b_body);
  EXPECT_EQ(a.scope(), b.scope());
  auto g = makeCacheKey("globex", "m", "p", "u", body(kBase));
  EXPECT_NE(a.scope(), g.scope());
  EXPECT_NE(a.digest(), g.digest());
  // Not ambiguous: moving characters between tenant and model changes the key.
  EXPECT_NE(makeCacheKey("ab", "c", "p", "u", body("{}")),
            makeCacheKey("a", "bc", "p", "u", body("{}")));
}

TEST(CacheKey, SpellingDoesNotChangeTheKey) {
  const auto base = key(kBase);
  // Reordered keys, whitespace and number spellings.
  const std::string respelled = R"({"parallel_tool_calls":true,"logprobs":false,
    "frequency_penalty":0.0,"presence_penalty":-0,"logit_bias":{"50256":-1e2},
    "response_format":{"type":"text"},"tool_choice":"auto",
    "tools":[{"function":{"parameters":{"type":"object"},"name":"f"},"type":"function"}],
    "seed":7.0,"n":1e0,"stop":["\u000a"],"max_tokens":100.0,"top_p":1.0,"temperature":0.0,
    "messages":[{"content":"You are terse.","role":"system"},
      {"content":[{"text":"a","type":"text"},{"type":"text","text":"b"}],"name":"ann","role":"user"},
      {"tool_calls":[{"function":{"arguments":"{\"x\":1}","name":"f"},"type":"function","id":"call_1"}],"content":null,"role":"assistant"},
      {"content":"42","tool_call_id":"call_1","role":"tool"}],
    "model":"gpt-4o"})";
  EXPECT_EQ(key(respelled), base);
}

TEST(CacheKey, NeutralFieldsAreIgnored) {
  const auto base = key(kBase);
  auto b = body(kBase);
  b["stream"] = true;
  b["stream_options"] = boost::json::parse(R"({"include_usage":true})");
  b["user"] = "u-123";
  b["metadata"] = boost::json::parse(R"({"trace":"x"})");
  EXPECT_EQ(makeCacheKey("acme", "gpt-4o", "openai", "gpt-4o-2024-08-06", b), base);
  EXPECT_TRUE(isKeyNeutralField("stream"));
  EXPECT_FALSE(isKeyNeutralField("temperature"));
}

TEST(CacheKey, MaterialIsCanonical) {
  const auto m = cacheKeyMaterial("t", "m", "p", "u", body(R"({"b":1.0,"a":"x","stream":true})"));
  EXPECT_EQ(m, R"(["v1","t","m","p","u",{"a":"x","b":1}])");
}

// L1's binary form: 43 bytes, the key's bytes exactly (decoded from hex), the
// same for the same key, different for different keys and tenants; a key
// not in the format is kept as it is.
TEST(CacheKey, CompactKeyIsTheBinaryFormOfTheKey) {
  const CacheKey k = key(kBase);
  const CompactKey c(k);
  ASSERT_EQ(c.view().size(), 1u + 2 + 8 + 32);
  EXPECT_EQ(c.view().substr(0, 3), std::string_view("\0v1", 3));
  std::string hex;
  for (char b : c.view().substr(3)) {
    static constexpr char kHex[] = "0123456789abcdef";
    hex += kHex[static_cast<unsigned char>(b) >> 4];
    hex += kHex[static_cast<unsigned char>(b) & 0xf];
  }
  EXPECT_EQ(hex, k.value.substr(3, 16) + k.value.substr(20));
  EXPECT_EQ(CompactKey(key(kBase)).view(), c.view());
  EXPECT_NE(CompactKey(key(kBase, "other")).view(), c.view());
  std::string changed(kBase);
  changed.replace(changed.find("terse"), 5, "brief");
  EXPECT_NE(CompactKey(key(changed)).view(), c.view());
  const CacheKey odd{"not-a-key"};
  EXPECT_EQ(CompactKey(odd).view(), "not-a-key");
  CacheKey upper = k;
  upper.value[25] = 'G';  // not lowercase hex
  EXPECT_EQ(CompactKey(upper).view(), upper.value);
}

}  // namespace
}  // namespace llmgate::proxy::cache
