#include "proxy/routing/override_applier.h"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace llmgate::proxy::routing {
namespace {

using Action = config::RouteOverride::Action;
using std::chrono::hours;
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1'800'000'000));

// a -> fallbacks [c]; b; c; the alias "auto" -> [a, b].
config::Config makeConfig() {
  config::Config c;
  c.providers.push_back(config::ProviderConfig{.name = "p"});
  c.models.push_back(config::ModelConfig{.name = "a", .provider = "p", .fallbacks = {"c"}});
  c.models.push_back(config::ModelConfig{.name = "b", .provider = "p"});
  c.models.push_back(config::ModelConfig{.name = "c", .provider = "p"});
  c.routes.push_back(config::RouteConfig{.name = "auto", .default_targets = {"a", "b"}});
  return c;
}

config::RouteOverride shift(std::string subject, std::string to, double weight,
                            std::string id = "o1-1") {
  return config::RouteOverride{.id = std::move(id),
                               .subject = std::move(subject),
                               .action = Action::kShift,
                               .to = std::move(to),
                               .weight = weight};
}

std::vector<std::string> names(const RouteDecision& d) {
  std::vector<std::string> out;
  for (const Target& t : d.targets) out.push_back(t.model->name);
  return out;
}

// What a decision says, copied out of the configs it points into.
struct Resolved {
  std::vector<std::string> targets;
  std::string label;
};
std::vector<std::string> names(const Resolved& r) { return r.targets; }

// resolveRoute without overrides, then the applier with a fixed draw.
Resolved resolve(const config::Config& c, std::string_view requested, double draw,
                 int* draws = nullptr) {
  config::Config bare = c;
  bare.overrides.clear();
  auto d = resolveRoute(bare, requested, RequestFacts{});
  EXPECT_TRUE(d);
  if (!d) return {};
  applyOverrides(c, requested, *d, kNow, [&] {
    if (draws != nullptr) ++*draws;
    return draw;
  });
  return Resolved{names(*d), d->label};
}

TEST(OverrideApplierTest, NoOverridesChangesNothing) {
  const Resolved d = resolve(makeConfig(), "a", 0.0);
  EXPECT_EQ(names(d), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(d.label, "a");
}

TEST(OverrideApplierTest, ShiftOfANamedModelTakesItsPlaceBelowTheWeight) {
  config::Config c = makeConfig();
  c.overrides.push_back(shift("a", "b", 0.95, "o7-1"));
  const Resolved moved = resolve(c, "a", 0.94);
  EXPECT_EQ(names(moved), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(moved.label, "a; override=o7-1");
  // The probe share (draw >= weight) still reaches the subject.
  const Resolved probe = resolve(c, "a", 0.95);
  EXPECT_EQ(names(probe), (std::vector<std::string>{"a", "c"}));
  EXPECT_EQ(probe.label, "a");
}

TEST(OverrideApplierTest, ShiftAppliesWhenAnAliasChoseTheModelAndDropsTheDuplicate) {
  config::Config c = makeConfig();
  c.overrides.push_back(shift("a", "b", 1.0));
  const Resolved d = resolve(c, "auto", 0.5);
  // auto -> [a, b]: a's place goes to b, the later b is not tried twice.
  EXPECT_EQ(names(d), (std::vector<std::string>{"b"}));
  EXPECT_EQ(d.label, "auto; default; override=o1-1");
}

TEST(OverrideApplierTest, ShiftWeightDecidesTheShareOverManyDraws) {
  config::Config c = makeConfig();
  c.overrides.push_back(shift("a", "b", 0.25));
  int moved = 0;
  for (int i = 0; i < 100; ++i) {
    const double draw = (i + 0.5) / 100.0;
    if (names(resolve(c, "a", draw)).front() == "b") ++moved;
  }
  EXPECT_EQ(moved, 25);
}

TEST(OverrideApplierTest, PinGivesExactlyOneTargetForAModelOrAnAlias) {
  config::Config c = makeConfig();
  c.overrides.push_back(
      config::RouteOverride{.id = "o2-1", .subject = "auto", .action = Action::kPin, .to = "c"});
  c.overrides.push_back(shift("c", "a", 1.0, "o2-2"));  // ignored under a pin
  int draws = 0;
  const Resolved alias = resolve(c, "auto", 0.0, &draws);
  EXPECT_EQ(names(alias), (std::vector<std::string>{"c"}));
  EXPECT_EQ(alias.label, "auto; default; override=o2-1");
  EXPECT_EQ(draws, 0);
  c.overrides.front().subject = "a";
  const Resolved model = resolve(c, "a", 0.9);
  EXPECT_EQ(names(model), (std::vector<std::string>{"c"}));  // no fallbacks
}

TEST(OverrideApplierTest, DrainSkipsTheSubjectAndItsFallbacksServe) {
  config::Config c = makeConfig();
  c.overrides.push_back(
      config::RouteOverride{.id = "o3-1", .subject = "a", .action = Action::kDrain});
  const Resolved named = resolve(c, "a", 0.0);
  EXPECT_EQ(names(named), (std::vector<std::string>{"c"}));
  EXPECT_EQ(named.label, "a; override=o3-1");
  const Resolved alias = resolve(c, "auto", 0.0);
  EXPECT_EQ(names(alias), (std::vector<std::string>{"b"}));
  // Draining the only target leaves the list as it was rather than failing.
  c.overrides.front().subject = "b";
  const Resolved only = resolve(c, "b", 0.0);
  EXPECT_EQ(names(only), (std::vector<std::string>{"b"}));
  EXPECT_EQ(only.label, "b");
}

TEST(OverrideApplierTest, ExpiredOverridesAreIgnoredOnTheProxyClock) {
  config::Config c = makeConfig();
  c.overrides.push_back(shift("a", "b", 1.0));
  c.overrides.back().expires_at = kNow;  // ends exactly now
  c.overrides.push_back(config::RouteOverride{.id = "o4-1",
                                              .subject = "a",
                                              .action = Action::kPin,
                                              .to = "b",
                                              .expires_at = kNow - hours(1)});
  EXPECT_EQ(names(resolve(c, "a", 0.0)), (std::vector<std::string>{"a", "c"}));
  c.overrides.front().expires_at = kNow + hours(1);
  EXPECT_EQ(names(resolve(c, "a", 0.0)), (std::vector<std::string>{"b", "c"}));
}

TEST(OverrideApplierTest, ResolveRouteAppliesOverrides) {
  config::Config c = makeConfig();
  c.overrides.push_back(shift("a", "b", 1.0, "o9-9"));
  auto d = resolveRoute(c, "a", RequestFacts{});
  ASSERT_TRUE(d);
  EXPECT_EQ(names(*d), (std::vector<std::string>{"b", "c"}));
  EXPECT_EQ(d->label, "a; override=o9-9");
}

}  // namespace
}  // namespace llmgate::proxy::routing
