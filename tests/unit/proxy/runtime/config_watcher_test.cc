#include "proxy/runtime/config_watcher.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

namespace llmgate::proxy::runtime {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

void writeFile(const fs::path& path, std::string_view text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// A Kubernetes ConfigMap volume: config.yaml -> ..data/config.yaml,
// ..data -> ..<version>; an update writes a new folder and renames a new
// ..data link over the old one.
class ConfigMapDir {
 public:
  ConfigMapDir() {
    char pattern[] = "/tmp/llmgate-watch-XXXXXX";
    root_ = ::mkdtemp(pattern);
    update("a: 1\n");
    fs::create_symlink("..data/config.yaml", root_ / "config.yaml");
  }
  ~ConfigMapDir() { fs::remove_all(root_); }

  void update(std::string_view text) {
    const fs::path folder = root_ / ("..v" + std::to_string(++version_));
    fs::create_directory(folder);
    writeFile(folder / "config.yaml", text);
    fs::create_directory_symlink(folder.filename(), root_ / "..data_tmp");
    fs::rename(root_ / "..data_tmp", root_ / "..data");
  }
  std::string path() const { return (root_ / "config.yaml").string(); }
  fs::path root() const { return root_; }

 private:
  fs::path root_;
  int version_ = 0;
};

TEST(FileFingerprintTest, FollowsSymlinksToTheResolvedFile) {
  ConfigMapDir dir;
  auto before = fingerprintFile(dir.path());
  ASSERT_TRUE(before.ok()) << before.status();
  dir.update("a: 2\n");  // same size, new inode behind an unchanged link
  auto after = fingerprintFile(dir.path());
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_NE(before->inode, after->inode);
  EXPECT_EQ(before->size, after->size);
  EXPECT_NE(before->content, after->content);
  EXPECT_FALSE(before->sameStat(*after));
}

TEST(FileFingerprintTest, MissingFileIsAnError) {
  EXPECT_FALSE(statFile("/nonexistent/llmgate/config.yaml").ok());
  EXPECT_FALSE(fingerprintFile("/nonexistent/llmgate/config.yaml").ok());
}

TEST(ConfigWatcherTest, ReportsAConfigMapSwapOnce) {
  ConfigMapDir dir;
  int changes = 0;
  ConfigWatcher watcher(dir.path(), milliseconds(0), [&] { ++changes; });
  watcher.start();  // baseline, no polling thread work at interval 0
  EXPECT_FALSE(watcher.checkOnce());
  dir.update("a: 2\n");
  EXPECT_TRUE(watcher.checkOnce());
  EXPECT_EQ(changes, 1);
  EXPECT_FALSE(watcher.checkOnce());  // the same version is not reported twice
  EXPECT_EQ(changes, 1);
  watcher.stop();
}

TEST(ConfigWatcherTest, SameContentUnderANewInodeOrMtimeIsNotAChange) {
  ConfigMapDir dir;
  int changes = 0;
  ConfigWatcher watcher(dir.path(), milliseconds(0), [&] { ++changes; });
  watcher.start();
  dir.update("a: 1\n");  // re-published, identical bytes
  EXPECT_FALSE(watcher.checkOnce());
  const std::string target = fs::canonical(dir.path()).string();
  struct timespec times[2] = {{0, UTIME_NOW}, {0, UTIME_NOW}};
  ASSERT_EQ(::utimensat(AT_FDCWD, target.c_str(), times, 0), 0);  // touch
  EXPECT_FALSE(watcher.checkOnce());
  EXPECT_EQ(changes, 0);
  watcher.stop();
}

TEST(ConfigWatcherTest, AMissingFileKeepsTheLastVersionAndItsReturnIsSeen) {
  ConfigMapDir dir;
  int changes = 0;
  ConfigWatcher watcher(dir.path(), milliseconds(0), [&] { ++changes; });
  watcher.start();
  fs::remove(dir.root() / "..data");  // the link is dangling for a while
  EXPECT_FALSE(watcher.checkOnce());
  EXPECT_FALSE(watcher.checkOnce());
  dir.update("a: 3\n");
  EXPECT_TRUE(watcher.checkOnce());
  EXPECT_EQ(changes, 1);
  watcher.stop();
}

TEST(ConfigWatcherTest, ThePollingThreadReportsAChange) {
  ConfigMapDir dir;
  std::atomic<int> changes{0};
  ConfigWatcher watcher(dir.path(), milliseconds(20), [&] { ++changes; });
  watcher.start();
  dir.update("b: 1\n");
  for (int i = 0; i < 200 && changes.load() == 0; ++i) {
    std::this_thread::sleep_for(milliseconds(10));
  }
  EXPECT_EQ(changes.load(), 1);
  watcher.setInterval(milliseconds(0));  // paused: later changes are not seen
  std::this_thread::sleep_for(milliseconds(60));
  dir.update("b: 2\n");
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(changes.load(), 1);
  watcher.stop();
}

}  // namespace
}  // namespace llmgate::proxy::runtime
