#include "control/metrics/prometheus_source.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <set>
#include <utility>

#include "common/log/log.h"

namespace llmgate::control::metrics {

namespace v1 = llmgate::control::v1;

namespace {

constexpr int kMaxPointsPerBucket = 32;

double increase(double before, double after) {
  if (after < before) return after;  // counter reset
  return after - before;
}

std::uint64_t asCount(double v) { return v <= 0 ? 0 : static_cast<std::uint64_t>(std::llround(v)); }

std::map<double, double> bucketIncrease(const std::map<double, double>* before,
                                        const std::map<double, double>& after) {
  std::map<double, double> out;
  for (const auto& [le, value] : after) {
    double old = 0;
    if (before != nullptr) {
      if (auto it = before->find(le); it != before->end()) old = it->second;
    }
    out[le] = increase(old, value);
  }
  return out;
}

void setTime(time::SystemTime at, google::protobuf::Timestamp* out) {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count();
  out->set_seconds(ns / 1000000000);
  out->set_nanos(static_cast<int>(ns % 1000000000));
}

void toProto(const sketch::LatencySketch& s, v1::LatencySketch* out) {
  out->set_gamma(sketch::LatencySketch::defaultGamma());
  out->set_zero_count(s.zeroCount());
  for (const auto& [index, count] : s.buckets()) {
    out->add_bucket_index(index);
    out->add_bucket_count(count);
  }
  out->set_count(s.count());
  out->set_sum(s.sum());
  out->set_min(s.min());
  out->set_max(s.max());
}

void addOutcome(v1::OutcomeCounts* c, const std::string& outcome, std::uint64_t n) {
  if (outcome == "success") {
    c->set_success(c->success() + n);
  } else if (outcome == "rate_limited" || outcome == "quota") {
    c->set_rate_limited(c->rate_limited() + n);
  } else if (outcome == "server_error") {
    c->set_server_error(c->server_error() + n);
  } else if (outcome == "timeout") {
    c->set_timeout(c->timeout() + n);
  } else if (outcome == "connect_error") {
    c->set_connect_error(c->connect_error() + n);
  } else if (outcome == "client_error") {
    c->set_client_error(c->client_error() + n);
  }
}

double parseLe(const std::string& le) {
  if (le == "+Inf" || le == "Inf") return std::numeric_limits<double>::infinity();
  return std::strtod(le.c_str(), nullptr);
}

}  // namespace

sketch::LatencySketch sketchFromBuckets(const std::map<double, double>& cumulative) {
  sketch::LatencySketch out;
  double lower = 0;
  double below = 0;
  for (const auto& [le, cum] : cumulative) {
    const std::uint64_t n = asCount(cum - below);
    below = std::max(below, cum);
    if (n > 0) {
      if (std::isinf(le)) {
        out.add(lower, n);  // beyond the last bound: histogram_quantile's answer too
      } else {
        const std::uint64_t points = std::min<std::uint64_t>(n, kMaxPointsPerBucket);
        for (std::uint64_t k = 0; k < points; ++k) {
          const std::uint64_t times = n / points + (k < n % points ? 1 : 0);
          const double at =
              lower + (le - lower) * (static_cast<double>(k) + 0.5) / static_cast<double>(points);
          out.add(at, times);
        }
      }
    }
    if (!std::isinf(le)) lower = le;
  }
  return out;
}

v1::TelemetryReport deltaReport(const PromCounters& before, const PromCounters& after,
                                time::SystemTime interval_start, time::SystemTime interval_end) {
  v1::TelemetryReport report;
  setTime(interval_start, report.mutable_interval_start());
  setTime(interval_end, report.mutable_interval_end());
  std::map<std::string, v1::TargetReport> targets;
  for (const auto& [key, value] : after.attempts) {
    const auto& [model, provider, outcome] = key;
    double old = 0;
    if (auto it = before.attempts.find(key); it != before.attempts.end()) old = it->second;
    const std::uint64_t n = asCount(increase(old, value));
    if (n == 0) continue;
    v1::TargetReport& t = targets[model];
    t.set_model(model);
    if (t.provider().empty()) t.set_provider(provider);
    addOutcome(t.mutable_outcomes(), outcome, n);
  }
  for (auto& [model, t] : targets) {
    auto tokens = [&](const char* kind) -> std::uint64_t {
      const auto key = std::make_pair(model, std::string(kind));
      auto now = after.tokens.find(key);
      if (now == after.tokens.end()) return 0;
      auto old = before.tokens.find(key);
      return asCount(increase(old == before.tokens.end() ? 0 : old->second, now->second));
    };
    t.mutable_tokens()->set_prompt(tokens("prompt"));
    t.mutable_tokens()->set_cached_prompt(tokens("cached_prompt"));
    t.mutable_tokens()->set_completion(tokens("completion"));
    if (auto now = after.cost.find(model); now != after.cost.end()) {
      auto old = before.cost.find(model);
      t.set_cost_usd(increase(old == before.cost.end() ? 0 : old->second, now->second));
    }
    if (auto it = after.duration.find(model); it != after.duration.end()) {
      auto old = before.duration.find(model);
      const auto s = sketchFromBuckets(
          bucketIncrease(old == before.duration.end() ? nullptr : &old->second, it->second));
      if (!s.empty()) toProto(s, t.mutable_latency());
    }
    if (auto it = after.ttft.find(model); it != after.ttft.end()) {
      auto old = before.ttft.find(model);
      const auto s = sketchFromBuckets(
          bucketIncrease(old == before.ttft.end() ? nullptr : &old->second, it->second));
      if (!s.empty()) toProto(s, t.mutable_time_to_first_token());
    }
    *report.add_targets() = std::move(t);
  }
  return report;
}

PrometheusSource::PrometheusSource(PrometheusClient client, config::Duration every, Sink sink)
    : client_(std::move(client)), every_(every), sink_(std::move(sink)) {}

PrometheusSource::~PrometheusSource() { stop(); }

void PrometheusSource::start() {
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      if (absl::Status s = pollOnce(); !s.ok()) {
        log::warn("metrics_source prometheus: ", std::string(s.message()));
      }
      lock.lock();
      cv_.wait_for(lock, every_, [this] { return stopping_; });
    }
  });
}

void PrometheusSource::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<PromCounters> PrometheusSource::read() const {
  PromCounters out;
  auto histogram = [this](const char* name,
                          std::map<std::string, std::map<double, double>>& into) -> absl::Status {
    auto samples = client_.query(std::string("sum by (model, le) (") + name + ")");
    if (!samples.ok()) return samples.status();
    for (const PromSample& s : *samples) {
      auto model = s.labels.find("model");
      auto le = s.labels.find("le");
      if (model == s.labels.end() || le == s.labels.end()) continue;
      into[model->second][parseLe(le->second)] = s.value;
    }
    return absl::OkStatus();
  };
  if (auto s = histogram("llmgate_request_duration_seconds_bucket", out.duration); !s.ok()) {
    return s;
  }
  if (auto s = histogram("llmgate_time_to_first_token_seconds_bucket", out.ttft); !s.ok()) {
    return s;
  }
  auto attempts =
      client_.query("sum by (model, provider, outcome) (llmgate_upstream_attempts_total)");
  if (!attempts.ok()) return attempts.status();
  for (const PromSample& s : *attempts) {
    auto model = s.labels.find("model");
    auto provider = s.labels.find("provider");
    auto outcome = s.labels.find("outcome");
    if (model == s.labels.end() || outcome == s.labels.end()) continue;
    out.attempts[{model->second, provider == s.labels.end() ? "" : provider->second,
                  outcome->second}] = s.value;
  }
  auto tokens = client_.query("sum by (model, kind) (llmgate_tokens_total)");
  if (!tokens.ok()) return tokens.status();
  for (const PromSample& s : *tokens) {
    auto model = s.labels.find("model");
    auto kind = s.labels.find("kind");
    if (model == s.labels.end() || kind == s.labels.end()) continue;
    out.tokens[{model->second, kind->second}] = s.value;
  }
  auto cost = client_.query("sum by (model) (llmgate_cost_usd_total)");
  if (!cost.ok()) return cost.status();
  for (const PromSample& s : *cost) {
    if (auto model = s.labels.find("model"); model != s.labels.end()) {
      out.cost[model->second] = s.value;
    }
  }
  return out;
}

absl::Status PrometheusSource::pollOnce() {
  const time::SystemTime now = time::systemNow();
  absl::StatusOr<PromCounters> counters = read();
  if (!counters.ok()) return counters.status();
  if (previous_) {
    v1::TelemetryReport report = deltaReport(*previous_, *counters, previous_at_, now);
    if (report.targets_size() > 0) sink_(report);
  }
  previous_ = std::move(*counters);
  previous_at_ = now;
  return absl::OkStatus();
}

}  // namespace llmgate::control::metrics
