#include "control/policy/fleet_window.h"

#include <algorithm>

namespace llmgate::control::policy {

double WindowStats::errorRate() const {
  const std::uint64_t judged = outcomes.total() - outcomes.client_error;
  if (judged == 0) return 0;
  return static_cast<double>(outcomes.errors()) / static_cast<double>(judged);
}

void WindowStats::add(const std::string& node, const TargetSample& sample) {
  if (provider.empty()) provider = sample.provider;
  outcomes.add(sample.outcomes);
  latency.merge(sample.latency);
  ttft.merge(sample.ttft);
  prompt_tokens += sample.prompt_tokens;
  completion_tokens += sample.completion_tokens;
  cost_usd += sample.cost_usd;
  nodes.insert(node);
}

void WindowStats::merge(const WindowStats& other) {
  if (provider.empty()) provider = other.provider;
  outcomes.add(other.outcomes);
  latency.merge(other.latency);
  ttft.merge(other.ttft);
  prompt_tokens += other.prompt_tokens;
  completion_tokens += other.completion_tokens;
  cost_usd += other.cost_usd;
  nodes.insert(other.nodes.begin(), other.nodes.end());
}

FleetWindow::FleetWindow(config::Duration window, config::Duration bucket)
    : window_(window), bucket_(std::max(bucket, config::Duration(1))) {}

std::int64_t FleetWindow::bucketOf(time::SystemTime at) const {
  const auto ms = std::chrono::duration_cast<config::Duration>(at.time_since_epoch()).count();
  const auto width = bucket_.count();
  return ms >= 0 ? ms / width : -((-ms + width - 1) / width);
}

void FleetWindow::add(const std::string& node, const TargetSample& sample, time::SystemTime at) {
  buckets_[bucketOf(at)][sample.model].add(node, sample);
}

WindowStats FleetWindow::stats(const std::string& model, time::SystemTime now,
                               time::SystemTime since) const {
  WindowStats out;
  // A bucket counts when it started after now - window (the bucket holding
  // that instant is left out whole) and not before `since`.
  const std::int64_t first_in_window = bucketOf(now - window_) + 1;
  std::int64_t first = first_in_window;
  if (since != time::SystemTime::min()) {
    const std::int64_t since_bucket = bucketOf(since);
    const bool aligned = bucketOf(since - config::Duration(1)) != since_bucket;
    first = std::max(first, aligned ? since_bucket : since_bucket + 1);
  }
  for (auto it = buckets_.lower_bound(first); it != buckets_.end(); ++it) {
    auto found = it->second.find(model);
    if (found != it->second.end()) out.merge(found->second);
  }
  return out;
}

void FleetWindow::expire(time::SystemTime now) {
  const std::int64_t first_in_window = bucketOf(now - window_) + 1;
  buckets_.erase(buckets_.begin(), buckets_.lower_bound(first_in_window));
}

}  // namespace llmgate::control::policy
