#include "proxy/control/snapshot_config.h"

#include <gtest/gtest.h>

#include "tests/unit/proxy/control/test_snapshots.h"

namespace llmgate::proxy::control {
namespace {

using test::fileConfig;
using test::goodSnapshot;

TEST(SnapshotConfigTest, ReplacesModelsAndRoutesAndKeepsTheRestOfTheFile) {
  const config::Config file = fileConfig();
  auto candidate = buildCandidate(file, goodSnapshot());
  ASSERT_TRUE(candidate.ok()) << candidate.status();
  EXPECT_EQ(candidate->routes_version, "7");
  ASSERT_EQ(candidate->models.size(), 2u);
  EXPECT_EQ(candidate->findModel("file-model"), nullptr);
  const config::ModelConfig* a = candidate->findModel("a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->provider, "fake");
  EXPECT_EQ(a->upstream_model, "up-a");
  EXPECT_EQ(a->context_window, 1000u);
  EXPECT_EQ(a->max_output_tokens, 1000u);  // default 4096, capped by the context window
  EXPECT_DOUBLE_EQ(a->price_per_mtok.input, 0.15);
  EXPECT_DOUBLE_EQ(a->price_per_mtok.cached_input, 0.15);  // unset: same as input
  EXPECT_DOUBLE_EQ(a->price_per_mtok.output, 0.6);
  EXPECT_EQ(a->fallbacks, (std::vector<std::string>{"b"}));
  EXPECT_EQ(a->strengths, (std::vector<std::string>{"code"}));
  const config::ModelConfig* b = candidate->findModel("b");
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->upstream_model, "b");  // empty means the name
  EXPECT_EQ(b->context_window, 8192u);
  const config::RouteConfig* route = candidate->findRoute("auto");
  ASSERT_NE(route, nullptr);
  ASSERT_EQ(route->rules.size(), 1u);
  EXPECT_EQ(route->rules[0].when.task, (std::vector<std::string>{"code"}));
  EXPECT_EQ(route->rules[0].targets, (std::vector<std::string>{"b"}));
  EXPECT_EQ(route->default_targets, (std::vector<std::string>{"a", "b"}));
  // Untouched: providers, server settings.
  EXPECT_EQ(candidate->providers.size(), 2u);
  EXPECT_EQ(candidate->server.listen, file.server.listen);
  ASSERT_EQ(candidate->overrides.size(), 1u);
  const config::RouteOverride& o = candidate->overrides[0];
  EXPECT_EQ(o.id, "o7-1");
  EXPECT_EQ(o.action, config::RouteOverride::Action::kShift);
  EXPECT_EQ(o.to, "b");
  EXPECT_DOUBLE_EQ(o.weight, 0.95);
  EXPECT_EQ(o.origin, "policy");
  ASSERT_TRUE(o.expires_at);
  EXPECT_EQ(
      std::chrono::duration_cast<std::chrono::seconds>(o.expires_at->time_since_epoch()).count(),
      1'800'000'000);
}

absl::Status refused(const v1::RouteSnapshot& snapshot) {
  auto candidate = buildCandidate(fileConfig(), snapshot);
  return candidate.ok() ? absl::OkStatus() : candidate.status();
}

TEST(SnapshotConfigTest, UnknownProviderIsRefusedWithTheLoadersPath) {
  v1::RouteSnapshot s = goodSnapshot();
  s.mutable_models(1)->set_provider("x");
  const absl::Status status = refused(s);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(status.message()), "models[1].provider: unknown provider \"x\"");
  s.mutable_models(1)->set_provider("fake3");
  EXPECT_EQ(std::string(refused(s).message()),
            "models[1].provider: unknown provider \"fake3\" (did you mean \"fake\"?)");
}

TEST(SnapshotConfigTest, ModelAndRouteProblemsNameTheirPaths) {
  v1::RouteSnapshot s = goodSnapshot();
  s.mutable_routes(0)->set_default_targets(1, "deepsek-v3");
  EXPECT_EQ(std::string(refused(s).message()),
            "routes[0].default[1]: unknown model \"deepsek-v3\"");

  s = goodSnapshot();
  s.mutable_models(0)->set_max_output_tokens(2000);
  EXPECT_EQ(std::string(refused(s).message()),
            "models[0].max_output_tokens: must not exceed context_window (1000), got 2000");

  s = goodSnapshot();
  s.mutable_models(1)->set_name("a");
  EXPECT_EQ(std::string(refused(s).message()),
            "models[1].name: duplicate model name \"a\" (also models[0].name)\n"
            "models[0].fallbacks[0]: unknown model \"b\" (did you mean \"a\"?)\n"
            "routes[0].rules[0].targets[0]: unknown model \"b\" (did you mean \"a\"?)\n"
            "routes[0].default[1]: unknown model \"b\" (did you mean \"a\"?)");

  s = goodSnapshot();
  s.clear_models();
  s.clear_routes();
  s.clear_overrides();
  EXPECT_EQ(std::string(refused(s).message()), "models: at least one model is required");

  s = goodSnapshot();
  s.mutable_routes(0)->set_name("a");
  EXPECT_NE(refused(s).message().find("routes[0].name: \"a\" is already a model name"),
            std::string::npos);

  s = goodSnapshot();
  s.mutable_models(0)->mutable_price_per_mtok()->set_input(-1);
  EXPECT_EQ(std::string(refused(s).message()),
            "models[0].price_per_mtok.input: must be at least 0, got -1");

  s = goodSnapshot();
  s.set_version("");
  EXPECT_EQ(std::string(refused(s).message()), "version: missing");
}

TEST(SnapshotConfigTest, OverrideProblemsNameTheirPaths) {
  v1::RouteSnapshot s = goodSnapshot();
  s.mutable_overrides(0)->mutable_shift()->set_to("zz");
  EXPECT_EQ(std::string(refused(s).message()), "overrides[0].shift.to: unknown model \"zz\"");
  s = goodSnapshot();
  s.mutable_overrides(0)->mutable_shift()->set_weight(0);
  EXPECT_EQ(std::string(refused(s).message()),
            "overrides[0].shift.weight: must be in (0, 1], got 0.000000");
  s = goodSnapshot();
  s.mutable_overrides(0)->set_subject("auto");  // an alias: only a pin may name one
  EXPECT_EQ(std::string(refused(s).message()), "overrides[0].subject: unknown model \"auto\"");
  s.mutable_overrides(0)->mutable_pin()->set_to("b");
  EXPECT_TRUE(refused(s).ok());
  s.mutable_overrides(0)->clear_pin();
  EXPECT_EQ(std::string(refused(s).message()), "overrides[0]: no action (shift, pin or drain)");
  s = goodSnapshot();
  s.mutable_overrides(0)->mutable_drain();
  EXPECT_TRUE(refused(s).ok());
  EXPECT_EQ(buildCandidate(fileConfig(), s)->overrides[0].action,
            config::RouteOverride::Action::kDrain);
}

TEST(SnapshotConfigTest, TheFilesOwnModelReferencesMustStillHold) {
  config::Config file = fileConfig();
  file.truncation.action = "reprocess";
  file.truncation.reprocess_on = "file-model";
  auto candidate = buildCandidate(file, goodSnapshot());
  ASSERT_FALSE(candidate.ok());
  EXPECT_NE(candidate.status().message().find("truncation.reprocess_on"), std::string::npos);
}

TEST(SnapshotConfigTest, JsonUsesTheConfigKeys) {
  const std::string json = modelsAndRoutesJson(goodSnapshot());
  EXPECT_NE(json.find("\"default\":[\"a\",\"b\"]"), std::string::npos) << json;
  EXPECT_NE(json.find("\"when\":{\"task\":[\"code\"]}"), std::string::npos) << json;
  EXPECT_NE(json.find("\"price_per_mtok\""), std::string::npos) << json;
}

}  // namespace
}  // namespace llmgate::proxy::control
