#include "proxy/control/route_table.h"

#include <gtest/gtest.h>

#include <vector>

#include "tests/unit/proxy/control/test_snapshots.h"

namespace llmgate::proxy::control {
namespace {

struct Published {
  std::vector<std::shared_ptr<const config::Config>> configs;
  RouteTable::Publish fn() {
    return [this](std::shared_ptr<const config::Config> c) { configs.push_back(std::move(c)); };
  }
};

TEST(RouteTableTest, StartsOnTheFileAndPublishesOnlyValidSnapshots) {
  Published published;
  RouteTable table(test::fileConfig(), published.fn());
  EXPECT_EQ(table.version(), "");
  EXPECT_EQ(table.source(), RouteSource::kConfig);
  EXPECT_TRUE(published.configs.empty());

  ASSERT_TRUE(table.applySnapshot(test::goodSnapshot("7"), RouteSource::kControlPlane).ok());
  ASSERT_EQ(published.configs.size(), 1u);
  EXPECT_EQ(published.configs[0]->routes_version, "7");
  EXPECT_NE(published.configs[0]->findModel("a"), nullptr);
  EXPECT_EQ(table.version(), "7");
  EXPECT_EQ(table.source(), RouteSource::kControlPlane);

  auto bad = test::goodSnapshot("8");
  bad.mutable_models(0)->set_provider("x");
  const absl::Status refused = table.applySnapshot(bad, RouteSource::kControlPlane);
  EXPECT_EQ(refused.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(published.configs.size(), 1u);  // nothing published
  EXPECT_EQ(table.version(), "7");          // the previous table keeps serving
  EXPECT_EQ(table.current(), published.configs.back());
}

TEST(RouteTableTest, ReloadReappliesTheSnapshotOnTheNewFile) {
  Published published;
  RouteTable table(test::fileConfig(), published.fn());
  ASSERT_TRUE(table.applySnapshot(test::goodSnapshot("7"), RouteSource::kCacheFile).ok());
  config::Config next = test::fileConfig();
  next.server.max_connections = 77;
  ASSERT_TRUE(table.reloadFile(next).ok());
  ASSERT_EQ(published.configs.size(), 2u);
  EXPECT_EQ(published.configs[1]->server.max_connections, 77u);
  EXPECT_EQ(published.configs[1]->routes_version, "7");
  EXPECT_NE(published.configs[1]->findModel("a"), nullptr);
  EXPECT_EQ(published.configs[1]->overrides.size(), 1u);

  // A file without a provider the snapshot needs is refused as a whole.
  config::Config narrower = test::fileConfig();
  narrower.providers.pop_back();
  const absl::Status s = table.reloadFile(narrower);
  EXPECT_EQ(std::string(s.message()),
            "models[1].provider: unknown provider \"fake2\" (did you mean \"fake\"?)");
  EXPECT_EQ(published.configs.size(), 2u);
  EXPECT_EQ(table.current()->server.max_connections, 77u);
}

TEST(RouteTableTest, SameVersionIsAcknowledgedWithoutASwap) {
  Published published;
  RouteTable table(test::fileConfig(), published.fn());
  ASSERT_TRUE(table.applySnapshot(test::goodSnapshot("7"), RouteSource::kCacheFile).ok());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(table.applySnapshot(test::goodSnapshot("7"), RouteSource::kControlPlane).ok());
  }
  EXPECT_EQ(published.configs.size(), 1u);
  EXPECT_EQ(table.source(), RouteSource::kControlPlane);
}

TEST(RouteTableTest, SnapshotDeletingEveryRouteIsRefused) {
  Published published;
  RouteTable table(test::fileConfig(), published.fn());  // the file has the route "auto"
  auto empty = test::goodSnapshot("8");
  empty.clear_routes();
  const absl::Status s = table.applySnapshot(empty, RouteSource::kControlPlane);
  EXPECT_EQ(std::string(s.message()),
            "routes: the snapshot has no routes and would delete all 1 (drain or pin a route "
            "instead)");
  EXPECT_TRUE(published.configs.empty());
}

TEST(RouteTableTest, ReloadWithoutSnapshotPublishesTheFile) {
  Published published;
  RouteTable table(test::fileConfig(), published.fn());
  ASSERT_TRUE(table.reloadFile(test::fileConfig()).ok());
  ASSERT_EQ(published.configs.size(), 1u);
  EXPECT_NE(published.configs[0]->findModel("file-model"), nullptr);
  EXPECT_EQ(published.configs[0]->routes_version, "");
}

TEST(RouteTableTest, NumericVersionOrFallback) {
  config::Config c;
  EXPECT_EQ(numericRouteVersion(c, 3), 3u);
  c.routes_version = "12";
  EXPECT_EQ(numericRouteVersion(c, 3), 12u);
  c.routes_version = "v12";
  EXPECT_EQ(numericRouteVersion(c, 3), 3u);
}

}  // namespace
}  // namespace llmgate::proxy::control
