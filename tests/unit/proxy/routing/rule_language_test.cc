// The rule language of routes[].rules[].when (docs/ROUTING.md): each
// condition on its own, AND across conditions, splits, and the route label.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "boost/json/parse.hpp"
#include "common/config/loader.h"
#include "proxy/routing/request_facts.h"
#include "proxy/routing/router.h"
#include "proxy/routing/rule_matcher.h"

namespace llmgate::proxy::routing {
namespace {

// Models a..f on one provider; `routes` is the YAML list under `routes:`.
config::Config configWith(const std::string& routes) {
  const std::string yaml = R"(models:
  - {name: a, provider: p}
  - {name: b, provider: p}
  - {name: c, provider: p}
routes:
)" + routes;
  auto loaded = config::loadModelsAndRoutesString(yaml, "test");
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  config::Config c;
  c.providers.push_back(config::ProviderConfig{.name = "p"});
  if (loaded.ok()) {
    c.models = loaded->models;
    c.routes = loaded->routes;
  }
  return c;
}

std::string loadError(const std::string& routes) {
  const std::string yaml =
      "models: [{name: a, provider: p}, {name: b, provider: p}]\nroutes:\n" + routes;
  auto loaded = config::loadModelsAndRoutesString(yaml, "test");
  return loaded.ok() ? std::string() : std::string(loaded.status().message());
}

std::string pick(const config::Config& c, const RequestFacts& f, std::string* label = nullptr) {
  auto d = resolveRoute(c, "auto", f);
  if (!d) return "none";
  if (label != nullptr) *label = d->label;
  return d->targets.front().model->name;
}

TEST(RuleLanguageTest, PromptTokenBounds) {
  const auto c = configWith(R"(
  - name: auto
    rules:
      - {when: {min_prompt_tokens: 1000}, targets: [b]}
      - {when: {max_prompt_tokens: 100}, targets: [c]}
    default: [a]
)");
  RequestFacts f;
  f.prompt_tokens = 999;
  EXPECT_EQ(pick(c, f), "a");
  f.prompt_tokens = 1000;
  std::string label;
  EXPECT_EQ(pick(c, f, &label), "b");
  EXPECT_EQ(label, "auto; rule=1; prompt_tokens=1000>=1000");
  f.prompt_tokens = 100;
  EXPECT_EQ(pick(c, f, &label), "c");
  EXPECT_EQ(label, "auto; rule=2; prompt_tokens=100<=100");
  f.prompt_tokens = 101;
  EXPECT_EQ(pick(c, f), "a");
}

TEST(RuleLanguageTest, ToolsPresentOrAbsent) {
  const auto c = configWith(R"(
  - name: auto
    rules:
      - {when: {tools: true}, targets: [b]}
    default: [a]
  - name: notools
    rules:
      - {when: {tools: false}, targets: [c]}
    default: [a]
)");
  RequestFacts f;
  EXPECT_EQ(pick(c, f), "a");
  f.has_tools = true;
  std::string label;
  EXPECT_EQ(pick(c, f, &label), "b");
  EXPECT_EQ(label, "auto; rule=1; tools");
  EXPECT_EQ(resolveRoute(c, "notools", f)->targets.front().model->name, "a");
  f.has_tools = false;
  EXPECT_EQ(resolveRoute(c, "notools", f)->targets.front().model->name, "c");
}

TEST(RuleLanguageTest, ResponseFormatPresenceOrType) {
  const auto c = configWith(R"(
  - name: auto
    rules:
      - {when: {response_format: [json_schema]}, targets: [c]}
      - {when: {response_format: true}, targets: [b]}
    default: [a]
)");
  RequestFacts f;
  EXPECT_EQ(pick(c, f), "a");
  f.has_response_format = true;
  f.response_format_type = "json_object";
  std::string label;
  EXPECT_EQ(pick(c, f, &label), "b");
  EXPECT_EQ(label, "auto; rule=2; response_format");
  f.response_format_type = "json_schema";
  EXPECT_EQ(pick(c, f, &label), "c");
  EXPECT_EQ(label, "auto; rule=1; response_format=json_schema");
}

TEST(RuleLanguageTest, TenantList) {
  const auto c = configWith(R"(
  - name: auto
    rules:
      - {when: {tenant: [acme, initech]}, targets: [b]}
    default: [a]
)");
  RequestFacts f;
  f.tenant = "globex";
  EXPECT_EQ(pick(c, f), "a");
  f.tenant = "initech";
  std::string label;
  EXPECT_EQ(pick(c, f, &label), "b");
  EXPECT_EQ(label, "auto; rule=1; tenant=initech");
}

TEST(RuleLanguageTest, RegexOnLastUserMessageIsRe2Unanchored) {
  const auto c = configWith(R"(
  - name: auto
    rules:
      - {when: {last_user_message: "(?i)\\btranslate\\b|翻译"}, targets: [b]}
    default: [a]
)");
  ASSERT_TRUE(c.routes[0].rules[0].when.last_user_message_re);
  RequestFacts f;
  f.last_user_message = "please TRANSLATE this";
  std::string label;
  EXPECT_EQ(pick(c, f, &label), "b");
  EXPECT_EQ(label, "auto; rule=1; last_user_message");
  f.last_user_message = "请翻译这段话";
  EXPECT_EQ(pick(c, f), "b");
  f.last_user_message = "translated";  // \b: not a whole word
  EXPECT_EQ(pick(c, f), "a");
}

TEST(RuleLanguageTest, BudgetLow) {
  const auto c = configWith(R"(
  - name: auto
    rules:
      - {when: {budget: low}, targets: [c]}
    default: [a]
)");
  RequestFacts f;
  EXPECT_EQ(pick(c, f), "a");
  f.budget_low = true;
  std::string label;
  EXPECT_EQ(pick(c, f, &label), "c");
  EXPECT_EQ(label, "auto; rule=1; budget=low");
}

TEST(RuleLanguageTest, AllConditionsMustHold) {
  const auto c = configWith(R"(
  - name: auto
    rules:
      - when: {task: [code], tools: true, tenant: [acme], min_prompt_tokens: 10}
        targets: [b]
    default: [a]
)");
  RequestFacts f;
  f.task = "code";
  f.has_tools = true;
  f.tenant = "acme";
  f.prompt_tokens = 10;
  std::string label;
  EXPECT_EQ(pick(c, f, &label), "b");
  EXPECT_EQ(label, "auto; rule=1; task=code; prompt_tokens=10>=10; tools; tenant=acme");
  for (int broken = 0; broken < 4; ++broken) {
    RequestFacts g = f;
    if (broken == 0) g.task = "chat";
    if (broken == 1) g.has_tools = false;
    if (broken == 2) g.tenant = "other";
    if (broken == 3) g.prompt_tokens = 9;
    EXPECT_EQ(pick(c, g), "a") << "condition " << broken;
  }
}

TEST(RuleLanguageTest, FirstMatchingRuleWins) {
  const auto c = configWith(R"(
  - name: auto
    rules:
      - {when: {task: [code]}, targets: [b]}
      - {when: {tenant: [acme]}, targets: [c]}
    default: [a]
)");
  RequestFacts f;
  f.task = "code";
  f.tenant = "acme";
  EXPECT_EQ(pick(c, f), "b");
  f.task = "chat";
  EXPECT_EQ(pick(c, f), "c");
}

TEST(RuleLanguageTest, WeightedSplitFollowsTheWeights) {
  const auto c = configWith(R"(
  - name: auto
    rules:
      - when: {tenant: [acme]}
        split: [{weight: 90, targets: [a, c]}, {weight: 10, targets: [b]}]
    default: [c]
)");
  RequestFacts f;
  f.tenant = "acme";
  std::map<std::string, int> counts;
  for (int i = 0; i < 10000; ++i) {
    f.split_draw = splitDraw("req-" + std::to_string(i));
    auto d = resolveRoute(c, "auto", f);
    ASSERT_TRUE(d);
    ++counts[d->targets.front().model->name];
    if (d->targets.front().model->name == "a") {
      ASSERT_EQ(d->targets.size(), 2u);  // the arm's own fallback order
      EXPECT_EQ(d->rule, "1.1");
      EXPECT_EQ(d->label, "auto; rule=1; tenant=acme; split=1/2");
    } else {
      EXPECT_EQ(d->rule, "1.2");
      EXPECT_EQ(d->label, "auto; rule=1; tenant=acme; split=2/2");
    }
  }
  EXPECT_NEAR(counts["a"], 9000, 300);
  EXPECT_NEAR(counts["b"], 1000, 300);
  // Deterministic: the same request id always takes the same arm.
  f.split_draw = splitDraw("req-42");
  const std::string first = pick(c, f);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(pick(c, f), first);
}

TEST(RuleLanguageTest, PickSplitArmBoundaries) {
  std::vector<config::RouteSplit> arms = {{.weight = 1, .targets = {"a"}},
                                          {.weight = 0, .targets = {"b"}},
                                          {.weight = 3, .targets = {"c"}}};
  EXPECT_EQ(pickSplitArm(arms, 0), 0u);
  EXPECT_EQ(pickSplitArm(arms, 1), 2u);  // weight 0 is never chosen
  EXPECT_EQ(pickSplitArm(arms, 3), 2u);
  EXPECT_EQ(pickSplitArm(arms, 4), 0u);
}

TEST(RuleLanguageTest, ReadBodyFacts) {
  const auto body = boost::json::parse(R"({"messages":[
      {"role":"user","content":"first"},
      {"role":"assistant","content":"ok"},
      {"role":"user","content":[{"type":"text","text":"part one"},{"type":"text","text":"part two"}]},
      {"role":"tool","content":"x","tool_call_id":"1"}],
    "tools":[{"type":"function","function":{"name":"f"}}],
    "response_format":{"type":"json_object"}})")
                        .as_object();
  RequestFacts f;
  readBodyFacts(body, f);
  EXPECT_TRUE(f.has_tools);
  EXPECT_TRUE(f.has_response_format);
  EXPECT_EQ(f.response_format_type, "json_object");
  EXPECT_EQ(f.last_user_message, "part one\npart two");
  RequestFacts g;
  readBodyFacts(boost::json::parse(R"({"messages":[],"tools":[]})").as_object(), g);
  EXPECT_FALSE(g.has_tools);
  EXPECT_FALSE(g.has_response_format);
  EXPECT_EQ(g.last_user_message, "");
}

TEST(RuleLanguageTest, ConfigErrorsNameTheKeyPath) {
  EXPECT_NE(loadError(R"(
  - name: auto
    rules: [{when: {last_user_message: "(unclosed"}, targets: [a]}]
)")
                .find("routes[0].rules[0].when.last_user_message: invalid regular expression"),
            std::string::npos);
  EXPECT_NE(loadError(R"(
  - name: auto
    rules: [{when: {budget: high}, targets: [a]}]
)")
                .find("routes[0].rules[0].when.budget: expected one of low"),
            std::string::npos);
  EXPECT_NE(loadError(R"(
  - name: auto
    rules: [{when: {min_prompt_tokens: 10, max_prompt_tokens: 5}, targets: [a]}]
)")
                .find("routes[0].rules[0].when.max_prompt_tokens: must not be less than"),
            std::string::npos);
  EXPECT_NE(loadError(R"(
  - name: auto
    rules: [{when: {}, targets: [a]}]
)")
                .find("routes[0].rules[0].when: needs at least one condition"),
            std::string::npos);
  EXPECT_NE(loadError(R"(
  - name: auto
    rules: [{when: {tools: true}, targets: [a], split: [{weight: 1, targets: [b]}]}]
)")
                .find("routes[0].rules[0].split: a rule has either targets or split"),
            std::string::npos);
  EXPECT_NE(loadError(R"(
  - name: auto
    rules: [{when: {tools: true}, split: [{weight: 0, targets: [b]}]}]
)")
                .find("routes[0].rules[0].split: the weights must not all be 0"),
            std::string::npos);
  EXPECT_NE(loadError(R"(
  - name: auto
    rules: [{when: {tools: true}, split: [{weight: 1, targets: [zz]}]}]
)")
                .find("routes[0].rules[0].split[0].targets[0]"),
            std::string::npos);
  EXPECT_NE(loadError(R"(
  - name: auto
    rules: [{when: {response_format: [yaml]}, targets: [a]}]
)")
                .find("routes[0].rules[0].when.response_format[0]: expected one of"),
            std::string::npos);
  EXPECT_NE(loadError(R"(
  - name: auto
    rules: [{when: {colour: blue}, targets: [a]}]
)")
                .find("routes[0].rules[0].when.colour"),
            std::string::npos);
}

}  // namespace
}  // namespace llmgate::proxy::routing
