#include "proxy/telemetry/series_map.h"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace llmgate::proxy::telemetry {
namespace {

TEST(SeriesMapTest, MakesEachLabelSetOnce) {
  SeriesMap<2, int> map;
  int made = 0;
  auto make = [&made](const auto&) { return ++made; };
  EXPECT_EQ(map.get({"a", "b"}, make), 1);
  EXPECT_EQ(map.get({"a", "c"}, make), 2);
  std::string a = "a";
  std::string b = "b";
  EXPECT_EQ(map.get({a, b}, make), 1);  // equal values, other storage
  EXPECT_EQ(made, 2);
  EXPECT_EQ(map.size(), 2u);
}

TEST(SeriesMapTest, ValuesThatConcatenateAlikeAreDistinct) {
  SeriesMap<2, int> map;
  int made = 0;
  auto make = [&made](const auto&) { return ++made; };
  EXPECT_NE(map.get({"ab", "c"}, make), map.get({"a", "bc"}, make));
}

TEST(SeriesMapTest, PastTheCapNewSetsShareTheOverflowSet) {
  SeriesMap<1, std::string> map(3);
  auto make = [](const auto& v) { return std::string(v[0]); };
  EXPECT_EQ(map.get({"x"}, make), "x");
  EXPECT_EQ(map.get({"y"}, make), "y");
  EXPECT_EQ(map.get({"z"}, make), "z");
  EXPECT_EQ(map.get({"w"}, make), "other");
  EXPECT_EQ(map.get({"v"}, make), "other");
  EXPECT_EQ(map.get({"x"}, make), "x");  // known sets still resolve
  EXPECT_EQ(map.size(), 3u);
}

TEST(SeriesMapTest, ConcurrentFirstUseMakesOnce) {
  SeriesMap<1, int> map;
  std::atomic<int> made{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) {
        map.get({std::to_string(i % 50)}, [&made](const auto&) { return ++made; });
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(made.load(), 50);
  EXPECT_EQ(map.size(), 50u);
}

}  // namespace
}  // namespace llmgate::proxy::telemetry
