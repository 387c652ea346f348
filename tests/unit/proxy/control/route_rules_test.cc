// The full rule language through the control plane: llmgate-control's
// routes_file -> RouteRule protos (control/service/convert) -> the proxy's
// candidate config (proxy/control/snapshot_config), and the router on it.
#include <gtest/gtest.h>

#include <string>

#include "common/config/loader.h"
#include "control/service/convert.h"
#include "proxy/control/routes_json.h"
#include "proxy/control/snapshot_config.h"
#include "proxy/routing/router.h"
#include "tests/unit/proxy/control/test_snapshots.h"

namespace llmgate::proxy::control {
namespace {

constexpr std::string_view kRoutes = R"yaml(
models:
  - {name: a, provider: fake}
  - {name: b, provider: fake}
  - {name: c, provider: fake2}
routes:
  - name: auto
    rules:
      - when: {task: [code, reasoning], min_prompt_tokens: 10, max_prompt_tokens: 5000}
        targets: [b, a]
      - when: {tools: true, response_format: [json_object, json_schema]}
        targets: [c]
      - when: {tools: false, response_format: false, budget: low}
        targets: [a]
      - when: {tenant: [acme, beta], last_user_message: "(?i)^translate\\b"}
        split: [{weight: 90, targets: [a, b]}, {weight: 10, targets: [c]}, {weight: 0, targets: [b]}]
      - when: {response_format: true, max_prompt_tokens: 0}
        targets: [b]
    default: [a]
  - name: tenant-only
    rules:
      - when: {tenant: [acme]}
        targets: [c]
    default: [a]
)yaml";

config::ModelsAndRoutes controlSide(std::string_view yaml = kRoutes) {
  auto loaded = config::loadModelsAndRoutesString(yaml, "routes.yaml");
  EXPECT_TRUE(loaded.ok()) << loaded.status();
  return loaded.ok() ? *loaded : config::ModelsAndRoutes{};
}

// What Controller::publishLocked builds from the control plane's routes_file.
v1::RouteSnapshot publish(const config::ModelsAndRoutes& table) {
  v1::RouteSnapshot s;
  s.set_version("42");
  s.set_nonce("n");
  for (const config::ModelConfig& m : table.models)
    *s.add_models() = ::llmgate::control::service::toProto(m);
  for (const config::RouteConfig& r : table.routes)
    *s.add_routes() = ::llmgate::control::service::toProto(r);
  return s;
}

std::string refusal(const v1::RouteSnapshot& snapshot) {
  auto candidate = buildCandidate(test::fileConfig(), snapshot);
  if (candidate.ok()) return "accepted";
  EXPECT_EQ(candidate.status().code(), absl::StatusCode::kInvalidArgument);
  return std::string(candidate.status().message());
}

TEST(RouteRulesThroughControlPlaneTest, EveryConditionAndSplitSurvivesTheRoundTrip) {
  const config::ModelsAndRoutes table = controlSide();
  auto candidate = buildCandidate(test::fileConfig(), publish(table));
  ASSERT_TRUE(candidate.ok()) << candidate.status();
  ASSERT_EQ(candidate->routes.size(), table.routes.size());
  for (std::size_t i = 0; i < table.routes.size(); ++i) {
    const config::RouteConfig& want = table.routes[i];
    const config::RouteConfig& got = candidate->routes[i];
    EXPECT_EQ(got.name, want.name);
    EXPECT_EQ(got.default_targets, want.default_targets);
    ASSERT_EQ(got.rules.size(), want.rules.size()) << want.name;
    for (std::size_t j = 0; j < want.rules.size(); ++j) {
      SCOPED_TRACE(want.name + " rule " + std::to_string(j));
      const config::RouteRule& w = want.rules[j];
      const config::RouteRule& g = got.rules[j];
      // The `when` as written covers every condition, presence included.
      EXPECT_EQ(config::routeMatchJson(g.when), config::routeMatchJson(w.when));
      EXPECT_EQ(g.when.task, w.when.task);
      EXPECT_EQ(g.when.min_prompt_tokens, w.when.min_prompt_tokens);
      EXPECT_EQ(g.when.max_prompt_tokens, w.when.max_prompt_tokens);
      EXPECT_EQ(g.when.tools, w.when.tools);
      EXPECT_EQ(g.when.response_format, w.when.response_format);
      EXPECT_EQ(g.when.response_format_types, w.when.response_format_types);
      EXPECT_EQ(g.when.tenant, w.when.tenant);
      EXPECT_EQ(g.when.last_user_message, w.when.last_user_message);
      EXPECT_EQ(g.when.last_user_message_re != nullptr, w.when.last_user_message_re != nullptr);
      EXPECT_EQ(g.when.budget_low, w.when.budget_low);
      EXPECT_EQ(g.targets, w.targets);
      ASSERT_EQ(g.split.size(), w.split.size());
      for (std::size_t k = 0; k < w.split.size(); ++k) {
        EXPECT_EQ(g.split[k].weight, w.split[k].weight);
        EXPECT_EQ(g.split[k].targets, w.split[k].targets);
      }
    }
  }
  // Spot checks that the fixture really exercises what it claims.
  const config::RouteRule& split_rule = candidate->routes[0].rules[3];
  ASSERT_EQ(split_rule.split.size(), 3u);
  EXPECT_EQ(split_rule.split[1].weight, 10u);
  EXPECT_EQ(split_rule.when.last_user_message, "(?i)^translate\\b");
  EXPECT_EQ(candidate->routes[0].rules[2].when.tools, std::optional<bool>(false));
  EXPECT_EQ(candidate->routes[0].rules[4].when.max_prompt_tokens, std::optional<std::uint64_t>(0));
}

TEST(RouteRulesThroughControlPlaneTest, ProtoCarriesPresenceOfEachCondition) {
  const config::ModelsAndRoutes table = controlSide();
  const v1::RouteRule first = ::llmgate::control::service::toProto(table.routes[0].rules[0]);
  EXPECT_EQ(first.task_size(), 2);
  EXPECT_EQ(first.min_prompt_tokens(), 10u);
  EXPECT_EQ(first.max_prompt_tokens(), 5000u);
  EXPECT_FALSE(first.has_tools());
  EXPECT_FALSE(first.has_response_format());
  EXPECT_FALSE(first.has_last_user_message());
  EXPECT_EQ(first.budget(), "");
  const v1::RouteRule third = ::llmgate::control::service::toProto(table.routes[0].rules[2]);
  ASSERT_TRUE(third.has_tools());
  EXPECT_FALSE(third.tools());
  ASSERT_TRUE(third.has_response_format());
  EXPECT_FALSE(third.response_format());
  EXPECT_EQ(third.budget(), "low");
  const v1::RouteRule tenant_only = ::llmgate::control::service::toProto(table.routes[1].rules[0]);
  EXPECT_EQ(tenant_only.task_size(), 0);
  ASSERT_EQ(tenant_only.tenant_size(), 1);
  EXPECT_EQ(tenant_only.tenant(0), "acme");
}

// The former bug: the proto carried only `task`, so a tenant-only rule became
// an empty rule that matched every request.
TEST(RouteRulesThroughControlPlaneTest, TenantOnlyRuleStillMatchesOnlyThatTenant) {
  auto candidate = buildCandidate(test::fileConfig(), publish(controlSide()));
  ASSERT_TRUE(candidate.ok()) << candidate.status();
  routing::RequestFacts facts;
  facts.task = "chat";
  facts.tenant = "acme";
  auto decision = routing::resolveRoute(*candidate, "tenant-only", facts);
  ASSERT_TRUE(decision);
  ASSERT_FALSE(decision->targets.empty());
  EXPECT_EQ(decision->targets[0].model->name, "c");
  EXPECT_EQ(decision->rule, "1");
  for (std::string_view tenant : {"other", ""}) {
    facts.tenant = tenant;
    decision = routing::resolveRoute(*candidate, "tenant-only", facts);
    ASSERT_TRUE(decision);
    EXPECT_EQ(decision->targets[0].model->name, "a") << tenant;
    EXPECT_EQ(decision->rule, "default") << tenant;
  }
}

TEST(RouteRulesThroughControlPlaneTest, ConditionsRouteOnTheProxy) {
  auto candidate = buildCandidate(test::fileConfig(), publish(controlSide()));
  ASSERT_TRUE(candidate.ok()) << candidate.status();
  routing::RequestFacts facts;
  facts.task = "chat";
  facts.tenant = "beta";
  facts.prompt_tokens = 50;
  facts.has_response_format = true;
  facts.last_user_message = "Translate this";
  facts.split_draw = 95;  // 95 % 100 = 95: the second arm (90..99)
  auto decision = routing::resolveRoute(*candidate, "auto", facts);
  ASSERT_TRUE(decision);
  EXPECT_EQ(decision->rule, "4.2");
  EXPECT_EQ(decision->targets[0].model->name, "c");
  facts.last_user_message = "please translate";  // anchored pattern: no match
  decision = routing::resolveRoute(*candidate, "auto", facts);
  ASSERT_TRUE(decision);
  EXPECT_EQ(decision->rule, "default");
}

// The admin /routes shows what the proxy serves: every condition and split.
TEST(RouteRulesThroughControlPlaneTest, AdminRoutesShowsConditionsAndSplits) {
  auto candidate = buildCandidate(test::fileConfig(), publish(controlSide()));
  ASSERT_TRUE(candidate.ok()) << candidate.status();
  const std::string text =
      routesJson(*candidate, "control_plane", std::nullopt, std::chrono::system_clock::now());
  EXPECT_NE(text.find(R"({"when":{"tenant":["acme"]},"targets":["c"]})"), std::string::npos)
      << text;
  EXPECT_NE(text.find(R"("split":[{"weight":90,"targets":["a","b"]})"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("budget":"low")"), std::string::npos) << text;
}

TEST(RouteRulesThroughControlPlaneTest, BadRegexIsNackedWithItsKeyPath) {
  v1::RouteSnapshot s = publish(controlSide());
  s.mutable_routes(0)->mutable_rules(1)->set_last_user_message("(unclosed");
  const std::string message = refusal(s);
  EXPECT_EQ(
      message.rfind("routes[0].rules[1].when.last_user_message: invalid regular expression", 0), 0u)
      << message;
  s.mutable_routes(0)->mutable_rules(1)->set_last_user_message("");
  EXPECT_NE(refusal(s).find("routes[0].rules[1].when.last_user_message:"), std::string::npos);
}

TEST(RouteRulesThroughControlPlaneTest, BadSplitIsNackedWithItsKeyPath) {
  v1::RouteSnapshot s = publish(controlSide());
  v1::RouteRule* rule = s.mutable_routes(0)->mutable_rules(3);
  for (v1::SplitArm& arm : *rule->mutable_split()) arm.set_weight(0);
  EXPECT_EQ(refusal(s), "routes[0].rules[3].split: the weights must not all be 0");

  s = publish(controlSide());
  s.mutable_routes(0)->mutable_rules(3)->add_targets(std::string("a"));
  EXPECT_EQ(refusal(s), "routes[0].rules[3].split: a rule has either targets or split, not both");

  s = publish(controlSide());
  s.mutable_routes(0)->mutable_rules(3)->mutable_split(1)->set_targets(0, "nope");
  EXPECT_EQ(refusal(s), "routes[0].rules[3].split[1].targets[0]: unknown model \"nope\"");

  s = publish(controlSide());
  s.mutable_routes(0)->mutable_rules(3)->mutable_split(2)->clear_targets();
  EXPECT_NE(refusal(s).find("routes[0].rules[3].split[2].targets"), std::string::npos);

  s = publish(controlSide());
  s.mutable_routes(0)->mutable_rules(0)->clear_targets();
  EXPECT_NE(refusal(s).find("routes[0].rules[0].targets"), std::string::npos);
}

TEST(RouteRulesThroughControlPlaneTest, OtherBadConditionsAreNacked) {
  v1::RouteSnapshot s = publish(controlSide());
  v1::RouteRule* rule = s.mutable_routes(1)->mutable_rules(0);
  rule->clear_tenant();  // no condition left: must not match everything
  EXPECT_EQ(refusal(s), "routes[1].rules[0].when: needs at least one condition");

  s = publish(controlSide());
  s.mutable_routes(0)->mutable_rules(2)->set_budget("high");
  EXPECT_NE(refusal(s).find("routes[0].rules[2].when.budget:"), std::string::npos);

  s = publish(controlSide());
  s.mutable_routes(0)->mutable_rules(1)->add_response_format_types(std::string("xml"));
  EXPECT_NE(refusal(s).find("routes[0].rules[1].when.response_format[2]:"), std::string::npos);

  s = publish(controlSide());
  s.mutable_routes(0)->mutable_rules(1)->set_response_format(false);
  EXPECT_EQ(refusal(s),
            "routes[0].rules[1].when.response_format: types listed with response_format false");

  s = publish(controlSide());
  s.mutable_routes(0)->mutable_rules(0)->set_min_prompt_tokens(6000);
  EXPECT_EQ(refusal(s),
            "routes[0].rules[0].when.max_prompt_tokens: must not be less than min_prompt_tokens");
}

}  // namespace
}  // namespace llmgate::proxy::control
