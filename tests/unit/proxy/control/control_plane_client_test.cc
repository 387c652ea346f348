#include "proxy/control/control_plane_client.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/unit/proxy/control/test_snapshots.h"

namespace llmgate::proxy::control {
namespace {

class ControlPlaneClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "cp-client-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  config::Config withControlPlane() {
    config::Config c = test::fileConfig();
    c.control_plane = config::ControlPlaneConfig{.address = "127.0.0.1:1",
                                                 .cache_file = (dir_ / "cache.json").string()};
    return c;
  }
  ControlPlaneHooks hooks() {
    return {.publish = [this](std::shared_ptr<const config::Config> c) { published_.push_back(c); },
            .override_gauge =
                [this](std::string_view model, std::string_view target, bool active) {
                  gauges_.push_back(std::string(model) + ">" + std::string(target) + "=" +
                                    (active ? "1" : "0"));
                }};
  }

  std::filesystem::path dir_;
  std::vector<std::shared_ptr<const config::Config>> published_;
  std::vector<std::string> gauges_;
};

TEST_F(ControlPlaneClientTest, WithoutControlPlaneNothingIsServedButTheFile) {
  ControlPlaneClient client(test::fileConfig(), hooks());
  EXPECT_TRUE(client.start().ok());  // nothing starts
  EXPECT_TRUE(published_.empty());
  const std::string json = client.routesJson();
  EXPECT_NE(json.find("\"source\":\"config\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"control_plane\":null"), std::string::npos) << json;
  EXPECT_NE(json.find("\"file-model\""), std::string::npos) << json;
}

TEST_F(ControlPlaneClientTest, AValidCacheFileIsServedBeforeAnyConnection) {
  auto snapshot = test::goodSnapshot("41");
  snapshot.mutable_overrides(0)->mutable_expires_at()->set_seconds(4'102'444'800);  // 2100
  ASSERT_TRUE(writeCacheFile((dir_ / "cache.json").string(), snapshot).ok());
  ControlPlaneClient client(withControlPlane(), hooks());
  ASSERT_EQ(published_.size(), 1u);
  EXPECT_EQ(published_[0]->routes_version, "41");
  EXPECT_EQ(client.table().source(), RouteSource::kCacheFile);
  EXPECT_EQ(gauges_, (std::vector<std::string>{"a>b=1"}));
  const std::string json = client.routesJson();
  EXPECT_NE(json.find("\"version\":\"41\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"source\":\"cache_file\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"expires_at\":\"2100-01-01T00:00:00Z\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"connected\":false"), std::string::npos) << json;
  EXPECT_EQ(json.find("127.0.0.1:1/v1"), std::string::npos);  // no provider URLs
}

TEST_F(ControlPlaneClientTest, ACacheFileThatNoLongerFitsIsIgnored) {
  auto snapshot = test::goodSnapshot("41");
  snapshot.mutable_models(1)->set_provider("gone");
  ASSERT_TRUE(writeCacheFile((dir_ / "cache.json").string(), snapshot).ok());
  ControlPlaneClient client(withControlPlane(), hooks());
  EXPECT_TRUE(published_.empty());
  EXPECT_EQ(client.table().source(), RouteSource::kConfig);
  EXPECT_EQ(client.table().version(), "");
}

TEST_F(ControlPlaneClientTest, AGarbledCacheFileIsIgnored) {
  std::ofstream(dir_ / "cache.json") << "not json";
  ControlPlaneClient client(withControlPlane(), hooks());
  EXPECT_TRUE(published_.empty());
  EXPECT_EQ(client.table().version(), "");
}

TEST_F(ControlPlaneClientTest, ExpiredOverrideGaugesDropAtRefresh) {
  auto snapshot = test::goodSnapshot("41");
  snapshot.mutable_overrides(0)->mutable_expires_at()->set_seconds(1);  // 1970
  ASSERT_TRUE(writeCacheFile((dir_ / "cache.json").string(), snapshot).ok());
  ControlPlaneClient client(withControlPlane(), hooks());
  EXPECT_TRUE(gauges_.empty());  // already expired: never shown as active
  EXPECT_NE(client.routesJson().find("\"expired\":true"), std::string::npos);
}

}  // namespace
}  // namespace llmgate::proxy::control
