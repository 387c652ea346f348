#include "control/ctl/route_text.h"

#include <gtest/gtest.h>

namespace llmgate::control::ctl {
namespace {

namespace v1 = ::llmgate::control::v1;

TEST(RouteTextTest, ShowsEveryConditionAndTheTargets) {
  v1::RouteRule rule;
  rule.add_task(std::string("code"));
  rule.add_task(std::string("chat"));
  rule.set_min_prompt_tokens(100);
  rule.set_max_prompt_tokens(8000);
  rule.set_tools(false);
  rule.add_response_format_types(std::string("json_object"));
  rule.add_tenant(std::string("acme"));
  rule.add_tenant(std::string("beta"));
  rule.set_last_user_message("^translate");
  rule.set_budget("low");
  rule.add_targets(std::string("a"));
  rule.add_targets(std::string("b"));
  EXPECT_EQ(ruleText(rule),
            "task=code,chat tokens>=100 tokens<=8000 tools=false response_format=json_object "
            "tenant=acme,beta last_user_message=/^translate/ budget=low -> a,b");
}

TEST(RouteTextTest, ShowsSplitArmsAndPresenceOnlyConditions) {
  v1::RouteRule rule;
  rule.set_response_format(true);
  auto* arm = rule.add_split();
  arm->set_weight(90);
  arm->add_targets(std::string("a"));
  arm = rule.add_split();
  arm->set_weight(10);
  arm->add_targets(std::string("b"));
  arm->add_targets(std::string("c"));
  EXPECT_EQ(ruleText(rule), "response_format=true -> split 90:a | 10:b,c");
}

TEST(RouteTextTest, AnEmptyRuleSaysSo) {
  EXPECT_EQ(ruleText(v1::RouteRule()), "(no condition) -> -");
}

}  // namespace
}  // namespace llmgate::control::ctl
