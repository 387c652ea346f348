// The fleet's view of each model over a sliding window: proxies' report
// entries added by arrival time into fixed buckets (5 s by default), so old
// data expires a bucket at a time. Not thread-safe: the owner locks.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/config/schema.h"
#include "common/sketch/latency_sketch.h"
#include "common/sketch/outcome_counts.h"
#include "common/time/clock.h"

namespace llmgate::control::policy {

// Upstream attempts by outcome (telemetry.proto OutcomeCounts).
using Outcomes = sketch::OutcomeCounts;

// One proxy's report entry for one target, proto-free.
struct TargetSample {
  std::string model;
  std::string provider;
  Outcomes outcomes;
  sketch::LatencySketch latency;
  sketch::LatencySketch ttft;
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  double cost_usd = 0;
};

struct WindowStats {
  std::string provider;
  Outcomes outcomes;
  sketch::LatencySketch latency;
  sketch::LatencySketch ttft;
  std::uint64_t prompt_tokens = 0;
  std::uint64_t completion_tokens = 0;
  double cost_usd = 0;
  std::set<std::string> nodes;

  std::uint64_t samples() const { return outcomes.total(); }
  // (errors) / (total - client_error); 0 without samples.
  double errorRate() const;
  void add(const std::string& node, const TargetSample& sample);
  void merge(const WindowStats& other);
};

class FleetWindow {
 public:
  explicit FleetWindow(config::Duration window, config::Duration bucket = std::chrono::seconds(5));

  void add(const std::string& node, const TargetSample& sample, time::SystemTime at);
  // Everything of `model` in buckets that started after `now - window` and
  // not before `since`.
  WindowStats stats(const std::string& model, time::SystemTime now,
                    time::SystemTime since = time::SystemTime::min()) const;
  // Drops buckets that left the window.
  void expire(time::SystemTime now);
  config::Duration window() const { return window_; }

 private:
  std::int64_t bucketOf(time::SystemTime at) const;

  config::Duration window_;
  config::Duration bucket_;
  // bucket number -> model -> stats
  std::map<std::int64_t, std::map<std::string, WindowStats>> buckets_;
};

}  // namespace llmgate::control::policy
