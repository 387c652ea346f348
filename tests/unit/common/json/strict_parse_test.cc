// parseStrict: one pass that builds the same value boost::json::parse would
// and refuses duplicate keys, excessive nesting and trailing data.
#include "common/json/strict_parse.h"

#include "boost/json/monotonic_resource.hpp"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "gtest/gtest.h"

namespace llmgate::json {
namespace {

TEST(StrictParse, BuildsTheSameValueAsBoostJson) {
  const char* docs[] = {
      R"({"model":"m","messages":[{"role":"user","content":"h\u00e9 \"x\" \n"}],"t":0.5})",
      R"([1,-2,18446744073709551615,1e300,true,false,null,"",{},[]])",
      R"({"a":{"b":{"c":[{"d":1},{"d":2}]}},"e\u0066":"g"})",
      R"(  "just a string"  )",
      "-0.0",
  };
  for (const char* doc : docs) {
    SCOPED_TRACE(doc);
    StrictParseResult r = parseStrict(doc);
    ASSERT_TRUE(r.ok) << r.error;
    EXPECT_EQ(r.value, boost::json::parse(doc));
    EXPECT_EQ(boost::json::serialize(r.value), boost::json::serialize(boost::json::parse(doc)));
  }
}

TEST(StrictParse, AllocatesFromTheGivenStorage) {
  auto arena = boost::json::make_shared_resource<boost::json::monotonic_resource>();
  StrictParseResult r = parseStrict(R"({"a":[1,2,{"b":"a long enough string value"}]})", 64, arena);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(*r.value.storage(), *arena);
  EXPECT_EQ(*r.value.at("a").as_array().storage(), *arena);
}

TEST(StrictParse, RefusesDuplicateKeysAtAnyDepthAndSpelling) {
  EXPECT_EQ(parseStrict(R"({"a":1,"a":2})").error, "duplicate key \"a\"");
  EXPECT_EQ(parseStrict(R"({"x":{"b":1,"c":2,"b":3}})").error, "duplicate key \"b\"");
  EXPECT_EQ(parseStrict(R"({"model":1,"mod\u0065l":2})").error, "duplicate key \"model\"");
  EXPECT_FALSE(parseStrict(R"([{"a":1},{"a":1}])").error.size());  // different objects
  EXPECT_TRUE(parseStrict(R"([{"a":1},{"a":1}])").ok);
}

// Past the handler's inline room (48 open keys, 16 open objects) the key
// stacks move to the heap: duplicates are still found, siblings still fine.
TEST(StrictParse, DuplicatesFoundBeyondTheInlineKeyStack) {
  std::string wide = "{";
  for (int i = 0; i < 100; ++i) wide += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
  EXPECT_TRUE(parseStrict(wide + "\"last\":0}").ok);
  EXPECT_EQ(parseStrict(wide + "\"k3\":0}").error, "duplicate key \"k3\"");
  // 30 nested objects, each with keys of its own and its parent's names.
  std::string deep;
  for (int i = 0; i < 30; ++i) deep += "{\"a\":1,\"b" + std::to_string(i) + "\":2,\"c\":";
  std::string close;
  for (int i = 0; i < 30; ++i) close += "}";
  EXPECT_TRUE(parseStrict(deep + "0" + close).ok);
  EXPECT_EQ(parseStrict(deep + "{\"x\":1,\"x\":2}" + close).error, "duplicate key \"x\"");
  // An escaped key split across the parser's buffer, then its duplicate.
  const std::string long_key = std::string(5000, 'k') + "\\u0041";
  EXPECT_EQ(parseStrict("{\"" + long_key + "\":1,\"" + std::string(5000, 'k') + "A\":2}").error,
            "duplicate key \"" + std::string(64, 'k') + "\"");
}

// The top-level keys written without escapes, as views into the text (where
// the upstream body is spliced); nested and escaped keys are not among them.
TEST(StrictParse, ReportsWhereTheTopLevelKeysAre) {
  const std::string_view text = R"( {"a":1, "b\u0062":{"c":2}, "d":[{"e":1}], "f":"g"} )";
  const StrictParseResult r = parseStrict(text);
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.top_level_keys.size(), 3u);
  EXPECT_EQ(r.top_level_keys[0], "a");
  EXPECT_EQ(r.top_level_keys[1], "d");
  EXPECT_EQ(r.top_level_keys[2], "f");
  for (std::string_view key : r.top_level_keys) {
    const std::size_t at = static_cast<std::size_t>(key.data() - text.data());
    EXPECT_EQ(text[at - 1], '"');
    EXPECT_EQ(text[at + key.size()], '"');
    EXPECT_EQ(text.substr(at, key.size()), key);
  }
  EXPECT_TRUE(parseStrict(R"([{"a":1}])").top_level_keys.empty());
}

TEST(StrictParse, RefusesBadSyntaxTrailingDataAndDeepNesting) {
  StrictParseResult bad = parseStrict(R"({"a":})");
  EXPECT_FALSE(bad.ok);
  EXPECT_NE(bad.error.find("at offset 5"), std::string::npos) << bad.error;
  StrictParseResult trailing = parseStrict(R"({"a":1} x)");
  EXPECT_FALSE(trailing.ok);
  EXPECT_EQ(trailing.error, boost::json::make_error_code(boost::json::error::extra_data).message());
  EXPECT_FALSE(parseStrict(std::string(65, '[') + std::string(65, ']')).ok);
  EXPECT_TRUE(parseStrict(std::string(64, '[') + std::string(64, ']')).ok);
  EXPECT_FALSE(parseStrict("NaN").ok);
  EXPECT_FALSE(parseStrict("").ok);
}

}  // namespace
}  // namespace llmgate::json
