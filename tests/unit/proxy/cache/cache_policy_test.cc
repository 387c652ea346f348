#include "proxy/cache/cache_policy.h"

#include "boost/json/parse.hpp"
#include "gtest/gtest.h"

namespace llmgate::proxy::cache {
namespace {

boost::json::object body(std::string_view text) { return boost::json::parse(text).as_object(); }

TEST(CachePolicy, ParseMode) {
  EXPECT_EQ(parseCacheMode("deterministic"), CacheMode::kDeterministic);
  EXPECT_EQ(parseCacheMode("always"), CacheMode::kAlways);
  EXPECT_EQ(parseCacheMode("off"), CacheMode::kOff);
  EXPECT_EQ(parseCacheMode("sometimes"), std::nullopt);
}

TEST(CachePolicy, ParseDirective) {
  auto ok = [](std::optional<std::string_view> h) {
    auto r = parseCacheDirective(h);
    EXPECT_TRUE(std::holds_alternative<CacheDirective>(r));
    return std::get<CacheDirective>(r);
  };
  EXPECT_EQ(ok(std::nullopt), CacheDirective::kDefault);
  EXPECT_EQ(ok("default"), CacheDirective::kDefault);
  EXPECT_EQ(ok("no-store"), CacheDirective::kNoStore);
  EXPECT_EQ(ok(" No-Cache "), CacheDirective::kNoCache);
  EXPECT_EQ(ok("ONLY-IF-CACHED"), CacheDirective::kOnlyIfCached);
  for (std::string_view bad : {"", "yes", "no-store, no-cache", "hit-l1"}) {
    auto r = parseCacheDirective(bad);
    ASSERT_TRUE(std::holds_alternative<api::ApiError>(r)) << bad;
    const auto& e = std::get<api::ApiError>(r);
    EXPECT_EQ(e.status, 400);
    EXPECT_EQ(e.param, "x-llmgate-cache");
  }
}

TEST(CachePolicy, Deterministic) {
  EXPECT_TRUE(isDeterministic(body(R"({"temperature":0})")));
  EXPECT_TRUE(isDeterministic(body(R"({"temperature":0.0,"n":1})")));
  EXPECT_TRUE(isDeterministic(body(R"({"seed":42})")));
  EXPECT_TRUE(isDeterministic(body(R"({"temperature":0,"seed":42})")));
  EXPECT_FALSE(isDeterministic(body(R"({})")));
  EXPECT_FALSE(isDeterministic(body(R"({"temperature":0.7})")));
  EXPECT_FALSE(isDeterministic(body(R"({"temperature":0.7,"seed":42})")));
  EXPECT_FALSE(isDeterministic(body(R"({"temperature":null,"seed":42})")));
  EXPECT_FALSE(isDeterministic(body(R"({"temperature":"0"})")));
  EXPECT_FALSE(isDeterministic(body(R"({"temperature":0,"n":2})")));
  EXPECT_FALSE(isDeterministic(body(R"({"seed":"42"})")));
  EXPECT_FALSE(isDeterministic(body(R"({"seed":1.5})")));
}

TEST(CachePolicy, Decide) {
  const auto det = body(R"({"temperature":0})");
  const auto hot = body(R"({"temperature":1})");
  using D = CacheDecision;
  EXPECT_EQ(decideCache(CacheMode::kDeterministic, CacheDirective::kDefault, det), (D{true, true}));
  EXPECT_EQ(decideCache(CacheMode::kDeterministic, CacheDirective::kDefault, hot), (D{}));
  EXPECT_EQ(decideCache(CacheMode::kAlways, CacheDirective::kDefault, hot), (D{true, true}));
  EXPECT_EQ(decideCache(CacheMode::kOff, CacheDirective::kDefault, det), (D{}));
  EXPECT_EQ(decideCache(CacheMode::kDeterministic, CacheDirective::kNoStore, det),
            (D{true, false}));
  EXPECT_EQ(decideCache(CacheMode::kDeterministic, CacheDirective::kNoCache, det),
            (D{false, true}));
  EXPECT_EQ(decideCache(CacheMode::kDeterministic, CacheDirective::kOnlyIfCached, hot),
            (D{true, false, true}));
  EXPECT_EQ(decideCache(CacheMode::kOff, CacheDirective::kOnlyIfCached, det),
            (D{false, false, true}));
  EXPECT_EQ(decideCache(CacheMode::kDeterministic, CacheDirective::kNoStore, hot), (D{}));
}

}  // namespace
}  // namespace llmgate::proxy::cache
