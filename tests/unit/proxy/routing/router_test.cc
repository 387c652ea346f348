#include "proxy/routing/router.h"

#include <gtest/gtest.h>

namespace llmgate::proxy::routing {
namespace {

config::Config makeConfig() {
  config::Config c;
  c.providers.push_back(config::ProviderConfig{.name = "deepseek"});
  c.providers.push_back(config::ProviderConfig{.name = "mistral"});
  c.models.push_back(config::ModelConfig{
      .name = "deepseek-v3", .provider = "deepseek", .fallbacks = {"mistral-large"}});
  c.models.push_back(config::ModelConfig{.name = "mistral-large", .provider = "mistral"});
  config::RouteConfig route{.name = "auto"};
  route.rules.push_back(
      config::RouteRule{.when = {.task = {"creative"}}, .targets = {"mistral-large"}});
  route.default_targets = {"deepseek-v3", "mistral-large"};
  c.routes.push_back(route);
  return c;
}

TEST(RouterTest, ModelNameGivesItselfThenFallbacks) {
  const config::Config c = makeConfig();
  auto d = resolveRoute(c, "deepseek-v3", RequestFacts{});
  ASSERT_TRUE(d);
  ASSERT_EQ(d->targets.size(), 2u);
  EXPECT_EQ(d->targets[0].model->name, "deepseek-v3");
  EXPECT_EQ(d->targets[0].provider->name, "deepseek");
  EXPECT_EQ(d->targets[1].model->name, "mistral-large");
  EXPECT_EQ(d->label, "deepseek-v3");
}

TEST(RouterTest, AliasUsesMatchingRuleElseDefault) {
  const config::Config c = makeConfig();
  auto creative = resolveRoute(c, "auto", RequestFacts{.task = "creative"});
  ASSERT_TRUE(creative);
  EXPECT_EQ(creative->targets.front().model->name, "mistral-large");
  EXPECT_EQ(creative->label, "auto; rule=1; task=creative");
  auto other = resolveRoute(c, "auto", RequestFacts{.task = "code"});
  ASSERT_TRUE(other);
  EXPECT_EQ(other->targets.front().model->name, "deepseek-v3");
  EXPECT_EQ(other->label, "auto; default");
}

TEST(RouterTest, UnknownNameIsNotFound) {
  EXPECT_FALSE(resolveRoute(makeConfig(), "gpt-5", RequestFacts{}).has_value());
}

}  // namespace
}  // namespace llmgate::proxy::routing
