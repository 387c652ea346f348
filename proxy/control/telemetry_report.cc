#include "proxy/control/telemetry_report.h"

#include <chrono>

namespace llmgate::proxy::control {

namespace v1 = llmgate::control::v1;

namespace {

void setTime(time::SystemTime at, google::protobuf::Timestamp* out) {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count();
  out->set_seconds(ns / 1000000000);
  out->set_nanos(static_cast<int>(ns % 1000000000));
}

}  // namespace

void toProto(const sketch::LatencySketch& sketch, v1::LatencySketch* out) {
  if (sketch.empty()) return;  // an empty sketch may be left unset
  out->set_gamma(sketch::LatencySketch::defaultGamma());
  out->set_zero_count(sketch.zeroCount());
  for (const auto& [index, count] : sketch.buckets()) {
    out->add_bucket_index(index);
    out->add_bucket_count(count);
  }
  out->set_count(sketch.count());
  out->set_sum(sketch.sum());
  out->set_min(sketch.min());
  out->set_max(sketch.max());
}

v1::TelemetryReport makeReport(std::span<const TargetDelta> targets,
                               time::SystemTime interval_start, time::SystemTime interval_end,
                               const std::string& route_version) {
  v1::TelemetryReport report;
  setTime(interval_start, report.mutable_interval_start());
  setTime(interval_end, report.mutable_interval_end());
  report.set_route_version(route_version);
  for (const TargetDelta& t : targets) {
    v1::TargetReport* out = report.add_targets();
    out->set_model(t.model);
    out->set_provider(t.provider);
    v1::OutcomeCounts* c = out->mutable_outcomes();
    c->set_success(t.outcomes.success);
    c->set_truncated(t.outcomes.truncated);
    c->set_rate_limited(t.outcomes.rate_limited);
    c->set_server_error(t.outcomes.server_error);
    c->set_timeout(t.outcomes.timeout);
    c->set_connect_error(t.outcomes.connect_error);
    c->set_stream_cut(t.outcomes.stream_cut);
    c->set_client_error(t.outcomes.client_error);
    if (!t.latency.empty()) toProto(t.latency, out->mutable_latency());
    if (!t.ttft.empty()) toProto(t.ttft, out->mutable_time_to_first_token());
    v1::TokenCounts* tokens = out->mutable_tokens();
    tokens->set_prompt(t.prompt_tokens);
    tokens->set_cached_prompt(t.cached_prompt_tokens);
    tokens->set_completion(t.completion_tokens);
    out->set_cost_usd(t.cost_usd);
  }
  return report;
}

}  // namespace llmgate::proxy::control
