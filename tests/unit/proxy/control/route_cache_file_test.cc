#include "proxy/control/route_cache_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "google/protobuf/util/message_differencer.h"
#include "tests/unit/proxy/control/test_snapshots.h"

namespace llmgate::proxy::control {
namespace {

class RouteCacheFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "route-cache-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const char* name) const { return (dir_ / name).string(); }

  std::filesystem::path dir_;
};

TEST_F(RouteCacheFileTest, RoundTripKeepsEveryField) {
  const auto snapshot = test::goodSnapshot("42");
  ASSERT_TRUE(writeCacheFile(path("cache.json"), snapshot).ok());
  auto read = readCacheFile(path("cache.json"));
  ASSERT_TRUE(read.ok()) << read.status();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*read, snapshot))
      << read->DebugString();
  // Nothing is left behind but the file itself, readable by its owner only.
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(dir_),
                          std::filesystem::directory_iterator()),
            1);
  struct stat st {};
  ASSERT_EQ(::stat(path("cache.json").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0077, 0040 & 0077 & st.st_mode);  // no write/other bits
  EXPECT_EQ(st.st_mode & 0007, 0);
}

TEST_F(RouteCacheFileTest, RewriteReplacesTheWholeFile) {
  ASSERT_TRUE(writeCacheFile(path("cache.json"), test::goodSnapshot("1")).ok());
  auto smaller = test::goodSnapshot("2");
  smaller.clear_overrides();
  ASSERT_TRUE(writeCacheFile(path("cache.json"), smaller).ok());
  auto read = readCacheFile(path("cache.json"));
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->version(), "2");
  EXPECT_EQ(read->overrides_size(), 0);
}

TEST_F(RouteCacheFileTest, MissingIsNotFoundAndGarbageIsInvalid) {
  EXPECT_EQ(readCacheFile(path("none.json")).status().code(), absl::StatusCode::kNotFound);
  std::ofstream(path("bad.json")) << "{\"version\": ";
  EXPECT_EQ(readCacheFile(path("bad.json")).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(RouteCacheFileTest, UnwritableFolderIsAnErrorNotACrash) {
  const absl::Status s =
      writeCacheFile((dir_ / "no-such-dir" / "cache.json").string(), test::goodSnapshot());
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("no-such-dir"), std::string::npos);
}

TEST_F(RouteCacheFileTest, WriterKeepsTheNewestOfABurst) {
  {
    CacheWriter writer(path("cache.json"));
    for (int i = 1; i <= 50; ++i) writer.write(test::goodSnapshot(std::to_string(i)));
    writer.flush();
    auto read = readCacheFile(path("cache.json"));
    ASSERT_TRUE(read.ok());
    EXPECT_EQ(read->version(), "50");
    writer.write(test::goodSnapshot("51"));
  }  // the destructor writes what is pending
  EXPECT_EQ(readCacheFile(path("cache.json"))->version(), "51");
}

}  // namespace
}  // namespace llmgate::proxy::control
