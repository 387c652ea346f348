// A log-bucketed, mergeable quantile sketch (DDSketch, Masson et al., VLDB
// 2019), the in-memory side of telemetry.proto's LatencySketch. Proto-free:
// control/ converts it to and from the wire message.
//
// With relative accuracy a = 0.01, gamma = (1 + a) / (1 - a). A value v above
// kMinIndexable falls into bucket i = ceil(log(v) / log(gamma)) and is
// estimated as 2 * gamma^i / (gamma + 1), within 1 % of v. Values at or below
// kMinIndexable (1 microsecond, including 0 and negatives) are counted apart
// and estimated as the exact minimum. Any quantile is therefore within 1 %
// (the design asks for 2 %) of the exact value at the same rank.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>

#include "absl/status/statusor.h"

namespace llmgate::sketch {

class LatencySketch {
 public:
  static constexpr double kRelativeAccuracy = 0.01;
  static constexpr double kMinIndexable = 1e-6;

  // gamma for kRelativeAccuracy; sketches merge only with an equal gamma.
  static double defaultGamma();

  LatencySketch() = default;

  // Adds one value in seconds. NaN is ignored; negatives count as 0.
  void add(double seconds, std::uint64_t times = 1);
  // Adds every value of `other` (same gamma by construction).
  void merge(const LatencySketch& other);

  // The value at rank floor(q * (count - 1)) of the sorted values, within the
  // relative accuracy; nullopt when empty. q is clamped to [0, 1].
  std::optional<double> quantile(double q) const;

  std::uint64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  double sum() const { return sum_; }
  double min() const { return min_; }
  double max() const { return max_; }
  std::uint64_t zeroCount() const { return zero_count_; }
  // Bucket index -> values in it, ascending.
  const std::map<std::int32_t, std::uint64_t>& buckets() const { return buckets_; }

  // Rebuilds a sketch from its wire parts, checking them: gamma equal to
  // ours, indexes strictly ascending, counts > 0, count = zero + buckets.
  static absl::StatusOr<LatencySketch> fromParts(double gamma, std::uint64_t zero_count,
                                                 std::span<const std::int32_t> bucket_index,
                                                 std::span<const std::uint64_t> bucket_count,
                                                 std::uint64_t count, double sum, double min,
                                                 double max);

 private:
  std::uint64_t zero_count_ = 0;
  std::map<std::int32_t, std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
  double sum_ = 0;
  double min_ = 0;
  double max_ = 0;
};

}  // namespace llmgate::sketch
