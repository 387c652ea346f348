#include "common/json/canonical.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "gtest/gtest.h"

namespace llmgate::json {
namespace {

std::string canon(std::string_view text) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  EXPECT_FALSE(ec) << text;
  return canonicalJson(v);
}

TEST(CanonicalJson, SortsKeysAndDropsWhitespace) {
  EXPECT_EQ(canon(R"( { "b" : 1 , "a" : [ 1 , { "d": null, "c": true } ] } )"),
            R"({"a":[1,{"c":true,"d":null}],"b":1})");
}

TEST(CanonicalJson, SortsKeysByBytes) {
  EXPECT_EQ(canon(R"({"b":1,"B":2,"aa":3,"a":4,"é":5})"), R"({"B":2,"a":4,"aa":3,"b":1,"é":5})");
}

TEST(CanonicalJson, NumbersBySpelling) {
  for (const char* one : {"1", "1.0", "1e0", "1E0", "10e-1", "0.1e1", "1.000"}) {
    EXPECT_EQ(canon(one), "1") << one;
  }
  for (const char* zero : {"0", "-0", "0.0", "-0.0", "0e5", "-0e-3"}) {
    EXPECT_EQ(canon(zero), "0") << zero;
  }
  EXPECT_EQ(canon("1e3"), "1000");
  EXPECT_EQ(canon("-2.50"), "-2.5");
  EXPECT_EQ(canon("0.1"), "0.1");
  EXPECT_EQ(canon("1e-7"), canon("0.0000001"));
  EXPECT_EQ(canon("1.5e300"), canon("15e299"));
  EXPECT_NE(canon("0.1"), canon("0.10000000000000002"));
}

TEST(CanonicalJson, LargeIntegersStayExact) {
  // Beyond 2^53 a double cannot tell these apart; the canonical form must.
  EXPECT_EQ(canon("9007199254740993"), "9007199254740993");
  EXPECT_NE(canon("9007199254740993"), canon("9007199254740992"));
  EXPECT_EQ(canon("-9223372036854775808"), "-9223372036854775808");
  EXPECT_EQ(canon("18446744073709551615"), "18446744073709551615");
  EXPECT_EQ(canon("9007199254740992.0"), "9007199254740992");
  EXPECT_EQ(canon("1e19"), "10000000000000000000");
  EXPECT_EQ(canon("1e19"), canon("10000000000000000000"));
  EXPECT_EQ(canon("1e20"), "100000000000000000000");
}

TEST(CanonicalJson, StringsReescaped) {
  EXPECT_EQ(canon(R"("\u0041\/\u00e9")"), "\"A/\xc3\xa9\"");
  EXPECT_EQ(canon(R"("a\"b\\c\n\t\r\b\f\u0001\u001F")"), R"("a\"b\\c\n\t\r\b\f\u0001\u001f")");
  EXPECT_EQ(canon(R"("\ud83d\ude00")"), "\"\xf0\x9f\x98\x80\"");
  EXPECT_EQ(canon(R"({"\u0061":1})"), R"({"a":1})");
}

TEST(CanonicalJson, OutputParsesBackToTheSameValue) {
  const char* doc =
      R"({"z":[1,2.5,-3,"x\u0000y",{"k":false}],"a":{"n":null,"big":12345678901234567890}})";
  const std::string c = canon(doc);
  EXPECT_EQ(boost::json::parse(c), boost::json::parse(doc));
  EXPECT_EQ(canon(c), c);  // idempotent
}

TEST(CanonicalJson, ArrayOrderMatters) { EXPECT_NE(canon("[1,2]"), canon("[2,1]")); }

TEST(CanonicalJson, ManyKeysUseTheLargePath) {
  boost::json::object a, b;
  for (int i = 0; i < 100; ++i) a[std::to_string(i)] = i;
  for (int i = 99; i >= 0; --i) b[std::to_string(i)] = i;
  EXPECT_EQ(canonicalJson(a), canonicalJson(b));
}

// Property test: random documents, re-serialized with shuffled keys, random
// whitespace and other number spellings, keep their canonical form.
class Generator {
 public:
  explicit Generator(unsigned seed) : rng_(seed) {}

  boost::json::value value(int depth) {
    switch (pick(depth > 3 ? 4 : 6)) {
      case 0:
        return nullptr;
      case 1:
        return pick(2) == 1;
      case 2:
        return static_cast<std::int64_t>(pick(2000)) - 1000;
      case 3:
        return boost::json::value(std::string(1 + pick(5), static_cast<char>('a' + pick(26))));
      case 4: {
        boost::json::array a;
        for (int i = pick(4); i > 0; --i) a.push_back(value(depth + 1));
        return a;
      }
      default: {
        boost::json::object o;
        for (int i = pick(6); i > 0; --i)
          o[std::string(1, static_cast<char>('a' + pick(26)))] = value(depth + 1);
        return o;
      }
    }
  }

  // A different, equivalent spelling.
  std::string respell(const boost::json::value& v) {
    std::string ws = pick(2) ? " " : pick(2) ? "\n\t" : "";
    switch (v.kind()) {
      case boost::json::kind::int64: {
        const auto n = v.get_int64();
        switch (pick(3)) {
          case 0:
            return ws + std::to_string(n) + ".0";
          case 1:
            return ws + std::to_string(n) + "e0" + ws;
          default:
            return std::to_string(n);
        }
      }
      case boost::json::kind::array: {
        std::string out = "[" + ws;
        bool first = true;
        for (const auto& e : v.get_array()) {
          if (!first) out += "," + ws;
          first = false;
          out += respell(e);
        }
        return out + ws + "]";
      }
      case boost::json::kind::object: {
        std::vector<const boost::json::key_value_pair*> members;
        for (const auto& kv : v.get_object()) members.push_back(&kv);
        std::shuffle(members.begin(), members.end(), rng_);
        std::string out = "{" + ws;
        bool first = true;
        for (const auto* kv : members) {
          if (!first) out += ws + ",";
          first = false;
          out += boost::json::serialize(boost::json::value(kv->key())) + ws + ":" + ws +
                 respell(kv->value());
        }
        return out + "}";
      }
      default:
        return ws + boost::json::serialize(v) + ws;
    }
  }

 private:
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
  std::mt19937 rng_;
};

TEST(CanonicalJson, PropertyRespelledDocumentsShareTheCanonicalForm) {
  Generator gen(12345);
  for (int i = 0; i < 500; ++i) {
    const boost::json::value v = gen.value(0);
    const std::string canonical = canonicalJson(v);
    for (int j = 0; j < 3; ++j) {
      const std::string spelled = gen.respell(v);
      EXPECT_EQ(canon(spelled), canonical) << spelled;
    }
  }
}

}  // namespace
}  // namespace llmgate::json
