#include "control/service/token_check.h"

#include <gtest/gtest.h>

namespace llmgate::control::service {
namespace {

TEST(TokenChecker, AcceptsOnlyTheBearerToken) {
  TokenChecker checker(std::string("s3cret"));
  EXPECT_TRUE(checker.check("Bearer s3cret"));
  EXPECT_TRUE(checker.check("bearer s3cret"));
  EXPECT_FALSE(checker.check("Bearer s3cre"));
  EXPECT_FALSE(checker.check("Bearer s3cret "));
  EXPECT_FALSE(checker.check("Basic s3cret"));
  EXPECT_FALSE(checker.check("s3cret"));
  EXPECT_FALSE(checker.check(""));
  EXPECT_FALSE(checker.check("Bearer "));
  EXPECT_FALSE(checker.check("Bearer " + std::string(100000, 'x')));
}

TEST(TokenChecker, UnconfiguredRefusesEverything) {
  TokenChecker none(std::nullopt);
  EXPECT_FALSE(none.configured());
  EXPECT_FALSE(none.check("Bearer "));
  EXPECT_FALSE(none.check("Bearer anything"));
  TokenChecker empty(std::string(""));
  EXPECT_FALSE(empty.check("Bearer "));
}

}  // namespace
}  // namespace llmgate::control::service
