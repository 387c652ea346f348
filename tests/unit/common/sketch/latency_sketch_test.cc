#include "common/sketch/latency_sketch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace llmgate::sketch {
namespace {

constexpr double kAllowed = 0.02;  // the design's bound; the sketch aims at 1 %
const std::vector<double> kQuantiles = {0, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 0.999, 1};

double exactQuantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  const auto rank =
      static_cast<std::size_t>(std::floor(q * static_cast<double>(values.size() - 1)));
  return values[rank];
}

void expectAccurate(const LatencySketch& sketch, const std::vector<double>& values) {
  ASSERT_EQ(sketch.count(), values.size());
  for (double q : kQuantiles) {
    const double exact = exactQuantile(values, q);
    const std::optional<double> estimate = sketch.quantile(q);
    ASSERT_TRUE(estimate.has_value());
    if (exact == 0) {
      EXPECT_EQ(*estimate, 0) << "q=" << q;
    } else {
      EXPECT_LE(std::fabs(*estimate - exact) / exact, kAllowed)
          << "q=" << q << " exact=" << exact << " estimate=" << *estimate;
    }
  }
}

LatencySketch sketchOf(const std::vector<double>& values) {
  LatencySketch sketch;
  for (double v : values) sketch.add(v);
  return sketch;
}

TEST(LatencySketch, EmptyHasNoQuantile) {
  LatencySketch sketch;
  EXPECT_TRUE(sketch.empty());
  EXPECT_FALSE(sketch.quantile(0.5).has_value());
}

TEST(LatencySketch, UniformRandom) {
  std::mt19937_64 rng(1);
  std::uniform_real_distribution<double> dist(0.05, 10);
  std::vector<double> values(100000);
  for (double& v : values) v = dist(rng);
  expectAccurate(sketchOf(values), values);
}

TEST(LatencySketch, LognormalRandom) {
  std::mt19937_64 rng(2);
  std::lognormal_distribution<double> dist(0, 1.5);
  std::vector<double> values(100000);
  for (double& v : values) v = dist(rng);
  expectAccurate(sketchOf(values), values);
}

TEST(LatencySketch, AllEqual) {
  std::vector<double> values(5000, 3.217);
  const LatencySketch sketch = sketchOf(values);
  expectAccurate(sketch, values);
  EXPECT_DOUBLE_EQ(*sketch.quantile(0.95), 3.217);  // clamped to min == max
}

TEST(LatencySketch, HugeRangeMicrosecondToThousandSeconds) {
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> exponent(-6, 3);
  std::vector<double> values(50000);
  for (double& v : values) v = std::pow(10.0, exponent(rng));
  values.push_back(1e-6);
  values.push_back(1000);
  expectAccurate(sketchOf(values), values);
}

TEST(LatencySketch, ZerosAndTinyValues) {
  std::vector<double> values(1000, 0.0);
  for (int i = 0; i < 100; ++i) values.push_back(0.5);
  const LatencySketch sketch = sketchOf(values);
  EXPECT_EQ(sketch.zeroCount(), 1000u);
  expectAccurate(sketch, values);
  LatencySketch only_zeros = sketchOf(std::vector<double>(10, 0.0));
  EXPECT_EQ(*only_zeros.quantile(0.99), 0);
}

TEST(LatencySketch, AdversarialBimodal) {
  // Half the values tiny, half huge: the median sits on the boundary.
  std::vector<double> values;
  for (int i = 0; i < 1000; ++i) values.push_back(0.001 * (1 + i % 7));
  for (int i = 0; i < 1001; ++i) values.push_back(500.0 + i % 13);
  expectAccurate(sketchOf(values), values);
}

TEST(LatencySketch, NegativeAndNanAreSafe) {
  LatencySketch sketch;
  sketch.add(std::nan(""));
  EXPECT_TRUE(sketch.empty());
  sketch.add(-5);
  EXPECT_EQ(sketch.zeroCount(), 1u);
  EXPECT_EQ(*sketch.quantile(0.5), 0);
}

TEST(LatencySketch, MergeEqualsUnion) {
  std::mt19937_64 rng(4);
  std::lognormal_distribution<double> dist(-1, 1);
  std::vector<double> all;
  LatencySketch merged;
  for (int part = 0; part < 5; ++part) {
    std::vector<double> values(3000 + part * 100);
    for (double& v : values) v = part == 2 ? 0.0 : dist(rng);
    merged.merge(sketchOf(values));
    all.insert(all.end(), values.begin(), values.end());
  }
  const LatencySketch direct = sketchOf(all);
  EXPECT_EQ(merged.count(), direct.count());
  EXPECT_EQ(merged.zeroCount(), direct.zeroCount());
  EXPECT_EQ(merged.buckets(), direct.buckets());
  EXPECT_DOUBLE_EQ(merged.min(), direct.min());
  EXPECT_DOUBLE_EQ(merged.max(), direct.max());
  EXPECT_NEAR(merged.sum(), direct.sum(), 1e-6 * direct.sum());
  for (double q : kQuantiles) EXPECT_DOUBLE_EQ(*merged.quantile(q), *direct.quantile(q));
  expectAccurate(merged, all);
}

TEST(LatencySketch, MergeIntoEmptyAndWithEmpty) {
  LatencySketch a = sketchOf({1, 2, 3});
  LatencySketch empty;
  a.merge(empty);
  EXPECT_EQ(a.count(), 3u);
  empty.merge(a);
  EXPECT_EQ(empty.count(), 3u);
  EXPECT_DOUBLE_EQ(empty.min(), 1);
}

TEST(LatencySketch, FromPartsRoundTripAndValidation) {
  const LatencySketch a = sketchOf({0, 0.2, 0.3, 0.3, 4});
  std::vector<std::int32_t> index;
  std::vector<std::uint64_t> counts;
  for (const auto& [i, n] : a.buckets()) {
    index.push_back(i);
    counts.push_back(n);
  }
  absl::StatusOr<LatencySketch> b =
      LatencySketch::fromParts(LatencySketch::defaultGamma(), a.zeroCount(), index, counts,
                               a.count(), a.sum(), a.min(), a.max());
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->buckets(), a.buckets());
  EXPECT_EQ(*b->quantile(0.5), *a.quantile(0.5));

  EXPECT_FALSE(LatencySketch::fromParts(1.05, a.zeroCount(), index, counts, a.count(), a.sum(),
                                        a.min(), a.max())
                   .ok());
  EXPECT_FALSE(LatencySketch::fromParts(LatencySketch::defaultGamma(), a.zeroCount(), index, counts,
                                        a.count() + 1, a.sum(), a.min(), a.max())
                   .ok());
  std::vector<std::int32_t> unsorted(index.rbegin(), index.rend());
  EXPECT_FALSE(LatencySketch::fromParts(LatencySketch::defaultGamma(), a.zeroCount(), unsorted,
                                        counts, a.count(), a.sum(), a.min(), a.max())
                   .ok());
  EXPECT_TRUE(LatencySketch::fromParts(0, 0, {}, {}, 0, 0, 0, 0)->empty());
}

}  // namespace
}  // namespace llmgate::sketch
