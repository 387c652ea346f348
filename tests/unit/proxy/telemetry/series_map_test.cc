#include "proxy/telemetry/series_map.h"

#include <gtest/gtest.h>

#include <memory>
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

// The per-thread memo in front of the shards: the same label text from
// another map, from a map built where a destroyed one was, or from a buffer
// whose text changed, never returns another series' handle.
TEST(SeriesMapTest, MemoNeverCrossesMapsOrStaleText) {
  int made = 0;
  auto make = [&made](const auto&) { return ++made; };
  const std::string_view model = "gpt-4o-mini";
  SeriesMap<1, int> first;
  SeriesMap<1, int> second;
  const int a = first.get({model}, make);
  EXPECT_EQ(first.get({model}, make), a);  // a memo hit: same handle, nothing made
  const int b = second.get({model}, make);
  EXPECT_NE(a, b);
  EXPECT_EQ(first.get({model}, make), a);
  EXPECT_EQ(made, 2);

  for (int round = 0; round < 3; ++round) {
    auto map = std::make_unique<SeriesMap<1, int>>();
    const int before = made;
    map->get({model}, make);  // a fresh map (maybe at a freed one's address) makes its own
    EXPECT_EQ(made, before + 1);
  }

  std::string label = "model-a";
  SeriesMap<1, std::string> names;
  auto name = [](const auto& v) { return std::string(v[0]); };
  EXPECT_EQ(names.get({label}, name), "model-a");
  label[6] = 'b';  // same address and length, other text
  EXPECT_EQ(names.get({label}, name), "model-b");
}

}  // namespace
}  // namespace llmgate::proxy::telemetry
