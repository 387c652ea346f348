#include "common/net/find_field.h"

#include <gtest/gtest.h>

#include "boost/beast/http/fields.hpp"

namespace llmgate::net {
namespace {

namespace http = boost::beast::http;

// findField answers what basic_fields::find answers: the first field of that
// name, case-insensitively, or end().
TEST(FindFieldTest, FindsWhatBeastFinds) {
  http::fields fields;
  fields.insert(http::field::content_type, "application/json");
  fields.insert("X-Request-Id", "abc");
  fields.insert(http::field::authorization, "Bearer a");
  fields.insert("x-request-id", "second");
  fields.insert("X-Llmgate-Cache", "no-store");

  EXPECT_EQ(findField(fields, http::field::content_type), fields.find(http::field::content_type));
  EXPECT_EQ(findField(fields, http::field::authorization)->value(), "Bearer a");
  EXPECT_EQ(findField(fields, http::field::expect), fields.end());
  // Known names looked up by string, unknown ones in any case.
  EXPECT_EQ(findField(fields, "content-type"), fields.find(http::field::content_type));
  auto id = findField(fields, "x-request-id");
  ASSERT_NE(id, fields.end());
  EXPECT_EQ(id->value(), "abc");  // the first one, as Beast's find
  EXPECT_EQ(id, fields.find("x-request-id"));
  EXPECT_EQ(findField(fields, "X-LLMGATE-CACHE")->value(), "no-store");
  EXPECT_EQ(findField(fields, "x-llmgate-cach"), fields.end());  // a prefix is not a match
  EXPECT_EQ(findField(fields, "x-llmgate-cache-"), fields.end());
  const http::fields none;
  EXPECT_EQ(findField(none, "x-request-id"), none.end());
  EXPECT_EQ(findField(none, http::field::expect), none.end());
}

}  // namespace
}  // namespace llmgate::net
