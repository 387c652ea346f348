#include "common/sketch/latency_sketch.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "common/text/str_cat.h"

namespace llmgate::sketch {
namespace {

const double kGamma =
    (1 + LatencySketch::kRelativeAccuracy) / (1 - LatencySketch::kRelativeAccuracy);
const double kLogGamma = std::log(kGamma);
// Keeps indexes (and gamma^i) finite for absurd inputs: gamma^20000 overflows.
constexpr std::int32_t kMaxIndex = 20000;

std::int32_t indexOf(double value) {
  const double index = std::ceil(std::log(value) / kLogGamma);
  return static_cast<std::int32_t>(std::clamp(index, -double{kMaxIndex}, double{kMaxIndex}));
}

double valueOf(std::int32_t index) { return 2 * std::pow(kGamma, index) / (kGamma + 1); }

absl::Status invalid(std::string message) { return absl::InvalidArgumentError(message); }

}  // namespace

double LatencySketch::defaultGamma() { return kGamma; }

void LatencySketch::add(double seconds, std::uint64_t times) {
  if (std::isnan(seconds) || times == 0) return;
  if (seconds < 0) seconds = 0;
  if (std::isinf(seconds)) seconds = std::numeric_limits<double>::max();
  if (count_ == 0) {
    min_ = max_ = seconds;
  } else {
    min_ = std::min(min_, seconds);
    max_ = std::max(max_, seconds);
  }
  count_ += times;
  sum_ += seconds * static_cast<double>(times);
  if (seconds <= kMinIndexable) {
    zero_count_ += times;
  } else {
    buckets_[indexOf(seconds)] += times;
  }
}

void LatencySketch::merge(const LatencySketch& other) {
  if (other.count_ == 0) return;
  if (count_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  count_ += other.count_;
  sum_ += other.sum_;
  zero_count_ += other.zero_count_;
  for (const auto& [index, n] : other.buckets_) buckets_[index] += n;
}

std::optional<double> LatencySketch::quantile(double q) const {
  if (count_ == 0) return std::nullopt;
  if (std::isnan(q)) q = 0;
  q = std::clamp(q, 0.0, 1.0);
  const auto rank = static_cast<std::uint64_t>(std::floor(q * static_cast<double>(count_ - 1)));
  if (rank == 0) return min_;
  if (rank == count_ - 1) return max_;
  if (rank < zero_count_) return min_;
  std::uint64_t seen = zero_count_;
  for (const auto& [index, n] : buckets_) {
    seen += n;
    if (seen > rank) return std::clamp(valueOf(index), min_, max_);
  }
  return max_;
}

absl::StatusOr<LatencySketch> LatencySketch::fromParts(double gamma, std::uint64_t zero_count,
                                                       std::span<const std::int32_t> bucket_index,
                                                       std::span<const std::uint64_t> bucket_count,
                                                       std::uint64_t count, double sum, double min,
                                                       double max) {
  LatencySketch sketch;
  if (count == 0) return sketch;
  if (!(std::fabs(gamma - kGamma) <= 1e-9)) {
    return invalid(strCat("gamma ", gamma, " differs from the server's ", kGamma));
  }
  if (bucket_index.size() != bucket_count.size()) {
    return invalid(strCat("bucket_index has ", bucket_index.size(), " entries, bucket_count ",
                          bucket_count.size()));
  }
  if (!std::isfinite(sum) || !std::isfinite(min) || !std::isfinite(max) || min < 0 || max < min) {
    return invalid("sum, min or max is not a finite, ordered value");
  }
  std::uint64_t total = zero_count;
  for (std::size_t k = 0; k < bucket_index.size(); ++k) {
    if (bucket_count[k] == 0) return invalid(strCat("bucket_count[", k, "] is 0"));
    if (k > 0 && bucket_index[k] <= bucket_index[k - 1]) {
      return invalid(strCat("bucket_index[", k, "] is not strictly ascending"));
    }
    if (bucket_index[k] > kMaxIndex || bucket_index[k] < -kMaxIndex) {
      return invalid(strCat("bucket_index[", k, "] is out of range"));
    }
    if (total + bucket_count[k] < total) return invalid("counts overflow");
    total += bucket_count[k];
    sketch.buckets_.emplace_hint(sketch.buckets_.end(), bucket_index[k], bucket_count[k]);
  }
  if (total != count) {
    return invalid(strCat("count ", count, " differs from zero_count plus bucket counts ", total));
  }
  sketch.zero_count_ = zero_count;
  sketch.count_ = count;
  sketch.sum_ = sum;
  sketch.min_ = min;
  sketch.max_ = max;
  return sketch;
}

}  // namespace llmgate::sketch
