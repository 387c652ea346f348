#include "control/service/convert.h"

#include <cmath>
#include <vector>

namespace llmgate::control::service {

google::protobuf::Timestamp toProto(time::SystemTime at) {
  const auto ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(at.time_since_epoch()).count();
  google::protobuf::Timestamp out;
  std::int64_t seconds = ns / 1'000'000'000;
  std::int64_t nanos = ns % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    --seconds;
  }
  out.set_seconds(seconds);
  out.set_nanos(static_cast<std::int32_t>(nanos));
  return out;
}

time::SystemTime fromProto(const google::protobuf::Timestamp& at) {
  return time::SystemTime(std::chrono::duration_cast<time::SystemTime::duration>(
      std::chrono::seconds(at.seconds()) + std::chrono::nanoseconds(at.nanos())));
}

google::protobuf::Duration toProtoDuration(config::Duration d) {
  google::protobuf::Duration out;
  out.set_seconds(d.count() / 1000);
  out.set_nanos(static_cast<std::int32_t>((d.count() % 1000) * 1'000'000));
  return out;
}

google::protobuf::Duration secondsToProto(double seconds) {
  google::protobuf::Duration out;
  const double whole = std::floor(seconds);
  out.set_seconds(static_cast<std::int64_t>(whole));
  out.set_nanos(static_cast<std::int32_t>(std::round((seconds - whole) * 1e9)) % 1'000'000'000);
  return out;
}

config::Duration fromProto(const google::protobuf::Duration& d) {
  return std::chrono::duration_cast<config::Duration>(std::chrono::seconds(d.seconds()) +
                                                      std::chrono::nanoseconds(d.nanos()));
}

void toProto(const sketch::LatencySketch& sketch, v1::LatencySketch* out) {
  out->Clear();
  if (sketch.empty()) return;
  out->set_gamma(sketch::LatencySketch::defaultGamma());
  out->set_zero_count(sketch.zeroCount());
  for (const auto& [index, n] : sketch.buckets()) {
    out->add_bucket_index(index);
    out->add_bucket_count(n);
  }
  out->set_count(sketch.count());
  out->set_sum(sketch.sum());
  out->set_min(sketch.min());
  out->set_max(sketch.max());
}

absl::StatusOr<sketch::LatencySketch> fromProto(const v1::LatencySketch& sketch) {
  const std::vector<std::int32_t> index(sketch.bucket_index().begin(), sketch.bucket_index().end());
  const std::vector<std::uint64_t> counts(sketch.bucket_count().begin(),
                                          sketch.bucket_count().end());
  return sketch::LatencySketch::fromParts(sketch.gamma(), sketch.zero_count(), index, counts,
                                          sketch.count(), sketch.sum(), sketch.min(), sketch.max());
}

v1::Policy toProto(const config::PolicyConfig& policy) {
  v1::Policy out;
  out.set_model(policy.model);
  if (policy.p95_latency_max)
    *out.mutable_p95_latency_max() = toProtoDuration(*policy.p95_latency_max);
  if (policy.ttft_p95_max) *out.mutable_ttft_p95_max() = toProtoDuration(*policy.ttft_p95_max);
  if (policy.error_rate_max) out.set_error_rate_max(*policy.error_rate_max);
  out.set_min_samples(policy.min_samples);
  out.set_shift_to(policy.shift_to);
  *out.mutable_shift_for() = toProtoDuration(policy.shift_for);
  out.set_probe_percent(policy.probe_percent);
  return out;
}

config::PolicyConfig fromProto(const v1::Policy& policy) {
  config::PolicyConfig out;
  out.model = policy.model();
  if (policy.has_p95_latency_max()) out.p95_latency_max = fromProto(policy.p95_latency_max());
  if (policy.has_ttft_p95_max()) out.ttft_p95_max = fromProto(policy.ttft_p95_max());
  if (policy.has_error_rate_max()) out.error_rate_max = policy.error_rate_max();
  out.min_samples = std::max<std::uint64_t>(1, policy.min_samples());
  out.shift_to = policy.shift_to();
  out.shift_for = fromProto(policy.shift_for());
  out.probe_percent = policy.probe_percent();
  return out;
}

v1::Model toProto(const config::ModelConfig& model) {
  v1::Model out;
  out.set_name(model.name);
  out.set_provider(model.provider);
  out.set_upstream_model(model.upstream_model);
  out.set_context_window(model.context_window);
  out.set_max_output_tokens(model.max_output_tokens);
  out.mutable_price_per_mtok()->set_input(model.price_per_mtok.input);
  out.mutable_price_per_mtok()->set_cached_input(model.price_per_mtok.cached_input);
  out.mutable_price_per_mtok()->set_output(model.price_per_mtok.output);
  for (const std::string& s : model.strengths) out.add_strengths(s);
  for (const std::string& f : model.fallbacks) out.add_fallbacks(f);
  return out;
}

v1::RouteRule toProto(const config::RouteRule& rule) {
  v1::RouteRule out;
  const config::RouteMatch& when = rule.when;
  for (const std::string& t : when.task) out.add_task(t);
  if (when.min_prompt_tokens) out.set_min_prompt_tokens(*when.min_prompt_tokens);
  if (when.max_prompt_tokens) out.set_max_prompt_tokens(*when.max_prompt_tokens);
  if (when.tools) out.set_tools(*when.tools);
  if (when.response_format) out.set_response_format(*when.response_format);
  for (const std::string& t : when.response_format_types) out.add_response_format_types(t);
  for (const std::string& t : when.tenant) out.add_tenant(t);
  if (when.last_user_message_re) out.set_last_user_message(when.last_user_message);
  if (when.budget_low) out.set_budget("low");
  for (const std::string& t : rule.targets) out.add_targets(t);
  for (const config::RouteSplit& arm : rule.split) {
    v1::SplitArm* a = out.add_split();
    a->set_weight(arm.weight);
    for (const std::string& t : arm.targets) a->add_targets(t);
  }
  return out;
}

v1::Route toProto(const config::RouteConfig& route) {
  v1::Route out;
  out.set_name(route.name);
  for (const config::RouteRule& rule : route.rules) {
    *out.add_rules() = toProto(rule);
  }
  for (const std::string& t : route.default_targets) out.add_default_targets(t);
  return out;
}

}  // namespace llmgate::control::service
