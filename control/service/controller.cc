#include "control/service/controller.h"

#include <algorithm>

#include "absl/status/status.h"
#include "common/config/units.h"
#include "common/log/log.h"
#include "common/text/str_cat.h"
#include "control/service/convert.h"
#include "control/state/state_file.h"

namespace llmgate::control::service {
namespace {

constexpr std::size_t kRecentDecisions = 256;
// A policy shift's expires_at is when it is judged next; proxies drop
// expired overrides on their own clock, so the published expiry carries a
// grace of two evaluation periods to let an extension arrive first.
constexpr int kExpiryGraceTicks = 2;

std::string actionName(const v1::Override& item) {
  switch (item.action_case()) {
    case v1::Override::kShift:
      return "shift";
    case v1::Override::kPin:
      return "pin";
    case v1::Override::kDrain:
      return "drain";
    default:
      return "none";
  }
}

std::string describeOverride(const v1::Override& item) {
  std::string text = strCat(actionName(item), " ", item.subject());
  if (item.has_shift())
    strAppend(text, " -> ", item.shift().to(), " weight ", item.shift().weight());
  if (item.has_pin()) strAppend(text, " -> ", item.pin().to());
  return text;
}

}  // namespace

Controller::Controller(config::ControlConfig config, const time::Clock& clock)
    : config_(std::move(config)), clock_(clock), window_(config_.window) {
  engine_.setPolicies(config_.policies);
}

absl::Status Controller::start() {
  std::lock_guard lock(mu_);
  if (!config_.state_file.empty()) {
    absl::StatusOr<state::OperatorState> loaded = state::loadState(config_.state_file);
    if (loaded.ok()) {
      version_ = loaded->route_version;
      if (loaded->policies) {
        std::vector<config::PolicyConfig> policies;
        for (const v1::Policy& p : *loaded->policies) {
          config::PolicyConfig policy = fromProto(p);
          if (!validatePolicy(policy, config_.models, "state_file policy").empty()) {
            log::warn("state file: dropping the policy of ", policy.model,
                      ": it no longer fits the routes file");
            continue;
          }
          policies.push_back(std::move(policy));
        }
        engine_.setPolicies(policies);
        policies_changed_ = true;
      }
      for (const v1::Override& item : loaded->overrides) {
        if (!validateOverrideLocked(item).ok()) {
          log::warn("state file: dropping override ", item.id(), " (", describeOverride(item),
                    "): it no longer fits the routes file");
          continue;
        }
        overrides_.push_back(item);
      }
      log::info("state file ", config_.state_file, ": version ", version_, ", ", overrides_.size(),
                " overrides", policies_changed_ ? ", operator thresholds" : "");
    } else if (loaded.status().code() != absl::StatusCode::kNotFound) {
      return loaded.status();
    }
  }
  expireLocked(clock_.systemNow());
  publishLocked();
  return absl::OkStatus();
}

std::string Controller::publishLocked() {
  const time::SystemTime now = clock_.systemNow();
  auto snapshot = std::make_shared<v1::RouteSnapshot>();
  snapshot->set_version(std::to_string(++version_));
  for (const config::ModelConfig& model : config_.models) *snapshot->add_models() = toProto(model);
  for (const config::RouteConfig& route : config_.routes) *snapshot->add_routes() = toProto(route);
  for (const v1::Override& item : overrides_) *snapshot->add_overrides() = item;
  *snapshot->mutable_created_at() = toProto(now);
  current_ = std::move(snapshot);
  counters_.publishes.fetch_add(1, std::memory_order_relaxed);
  persistLocked();
  log::info("route table version ", current_->version(), " published: ", overrides_.size(),
            " overrides, ", subscribers_.size(), " subscribers");
  for (auto& [subscriber, subscription] : subscribers_) subscriber->push(current_);
  return current_->version();
}

void Controller::persistLocked() {
  if (config_.state_file.empty()) return;
  state::OperatorState state;
  state.route_version = version_;
  if (policies_changed_) {
    state.policies.emplace();
    for (const config::PolicyConfig& p : engine_.policies()) state.policies->push_back(toProto(p));
  }
  for (const v1::Override& item : overrides_) {
    // Policy shifts are re-derived from fresh telemetry after a restart.
    if (item.origin() == v1::Override::ORIGIN_OPERATOR) state.overrides.push_back(item);
  }
  absl::Status status = state::saveState(config_.state_file, state);
  if (!status.ok()) {
    counters_.state_write_failures.fetch_add(1, std::memory_order_relaxed);
    log::error("state file: ", std::string(status.message()));
  }
}

void Controller::decideLocked(v1::Decision decision) {
  if (!decision.has_at()) *decision.mutable_at() = toProto(clock_.systemNow());
  counters_.decisions.fetch_add(1, std::memory_order_relaxed);
  log::info("decision ", v1::Decision::Kind_Name(decision.kind()), " subject=", decision.subject(),
            " version=", decision.route_version(), ": ", decision.reason());
  recent_.push_back(decision);
  if (recent_.size() > kRecentDecisions) recent_.pop_front();
  for (auto& [watcher, watch] : watchers_) {
    if (watch.subjects.empty() || watch.subjects.contains(decision.subject())) {
      watcher->push(decision);
    }
  }
}

std::string Controller::nextOverrideIdLocked() {
  return strCat("o", version_ + 1, "-", ++override_seq_);
}

// --- RouteDiscovery -------------------------------------------------------

void Controller::subscribe(RouteSubscriber* subscriber, const v1::Node& node,
                           const std::string& version_info) {
  std::lock_guard lock(mu_);
  Subscription& subscription = subscribers_[subscriber];
  *subscription.status.mutable_node() = node;
  *subscription.status.mutable_connected_at() = toProto(clock_.systemNow());
  log::info("proxy ", node.id(), " subscribed with version \"", version_info, "\"");
  if (current_ && version_info != current_->version()) {
    subscriber->push(current_);
  } else if (current_) {
    subscription.status.set_acked_version(version_info);
  }
}

void Controller::unsubscribe(RouteSubscriber* subscriber) {
  std::lock_guard lock(mu_);
  auto it = subscribers_.find(subscriber);
  if (it == subscribers_.end()) return;
  log::info("proxy ", it->second.status.node().id(), " unsubscribed");
  subscribers_.erase(it);
}

void Controller::ack(RouteSubscriber* subscriber, const std::string& version) {
  counters_.acks.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  auto it = subscribers_.find(subscriber);
  if (it == subscribers_.end()) return;
  it->second.status.set_acked_version(version);
}

void Controller::nack(RouteSubscriber* subscriber, const std::string& kept_version,
                      const std::string& refused_version, const v1::ErrorDetail& error) {
  counters_.nacks.fetch_add(1, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  auto it = subscribers_.find(subscriber);
  if (it == subscribers_.end()) return;
  v1::NodeStatus& status = it->second.status;
  status.set_acked_version(kept_version);
  status.set_nacked_version(refused_version);
  *status.mutable_last_error() = error;
  log::warn("proxy ", status.node().id(), " NACKed version ", refused_version, " (keeps \"",
            kept_version, "\"): code ", error.code(), ": ", error.message());
}

std::shared_ptr<const v1::RouteSnapshot> Controller::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

std::size_t Controller::subscriberCount() const {
  std::lock_guard lock(mu_);
  return subscribers_.size();
}

// --- Telemetry ------------------------------------------------------------

void Controller::ingest(const std::string& node_id, const v1::TelemetryReport& report,
                        v1::ReportAck* ack) {
  counters_.reports.fetch_add(1, std::memory_order_relaxed);
  const time::SystemTime now = clock_.systemNow();
  std::vector<policy::TargetSample> samples;
  std::uint64_t rejected = 0;
  std::string last_error;
  const bool future =
      report.has_interval_end() && fromProto(report.interval_end()) > now + std::chrono::minutes(1);
  for (int i = 0; i < report.targets_size(); ++i) {
    const v1::TargetReport& target = report.targets(i);
    const std::string path = strCat("targets[", i, "]");
    if (future) {
      ++rejected;
      last_error = "interval_end is in the future";
      continue;
    }
    if (config_.findModel(target.model()) == nullptr) {
      ++rejected;
      last_error = strCat(path, ".model: unknown model \"", target.model(), "\"");
      continue;
    }
    absl::StatusOr<sketch::LatencySketch> latency = fromProto(target.latency());
    absl::StatusOr<sketch::LatencySketch> ttft = fromProto(target.time_to_first_token());
    if (!latency.ok() || !ttft.ok()) {
      ++rejected;
      last_error =
          strCat(path, !latency.ok() ? ".latency: " : ".time_to_first_token: ",
                 std::string((!latency.ok() ? latency.status() : ttft.status()).message()));
      continue;
    }
    policy::TargetSample sample;
    sample.model = target.model();
    sample.provider = target.provider();
    const v1::OutcomeCounts& o = target.outcomes();
    sample.outcomes = {o.success(), o.truncated(),     o.rate_limited(), o.server_error(),
                       o.timeout(), o.connect_error(), o.stream_cut(),   o.client_error()};
    sample.latency = std::move(*latency);
    sample.ttft = std::move(*ttft);
    sample.prompt_tokens = target.tokens().prompt();
    sample.completion_tokens = target.tokens().completion();
    sample.cost_usd = target.cost_usd();
    samples.push_back(std::move(sample));
  }
  if (rejected > 0) {
    counters_.rejected_targets.fetch_add(rejected, std::memory_order_relaxed);
    ack->set_rejected_targets(ack->rejected_targets() + rejected);
    ack->set_message(last_error);
    log::warn("telemetry from ", node_id, ": ", rejected, " entries refused: ", last_error);
  }
  std::lock_guard lock(mu_);
  last_report_[node_id] = now;
  for (const policy::TargetSample& sample : samples) window_.add(node_id, sample, now);
}

// --- Policy loop ----------------------------------------------------------

bool Controller::expireLocked(time::SystemTime now) {
  bool changed = false;
  for (auto it = overrides_.begin(); it != overrides_.end();) {
    // Policy shifts end through the engine, which may extend them.
    if (it->origin() != v1::Override::ORIGIN_POLICY && it->has_expires_at() &&
        fromProto(it->expires_at()) <= now) {
      v1::Decision decision;
      decision.set_kind(v1::Decision::KIND_OVERRIDE_EXPIRED);
      decision.set_subject(it->subject());
      *decision.mutable_override() = *it;
      decision.set_reason(strCat(describeOverride(*it), " expired"));
      decision.set_route_version(std::to_string(version_ + 1));
      decideLocked(std::move(decision));
      it = overrides_.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  return changed;
}

void Controller::applyActionLocked(const policy::PolicyAction& action, time::SystemTime now) {
  auto policy_shift =
      std::find_if(overrides_.begin(), overrides_.end(), [&](const v1::Override& o) {
        return o.origin() == v1::Override::ORIGIN_POLICY && o.subject() == action.model &&
               o.has_shift();
      });
  v1::Decision decision;
  decision.set_subject(action.model);
  decision.set_reason(action.reason);
  decision.set_route_version(std::to_string(version_ + 1));
  const time::SystemTime expires = action.until + kExpiryGraceTicks * config_.evaluate_every;
  switch (action.kind) {
    case policy::ActionKind::kStart: {
      v1::Override item;
      item.set_id(nextOverrideIdLocked());
      item.set_subject(action.model);
      item.mutable_shift()->set_to(action.shift_to);
      item.mutable_shift()->set_weight(action.weight);
      *item.mutable_expires_at() = toProto(expires);
      item.set_origin(v1::Override::ORIGIN_POLICY);
      item.set_reason(action.reason);
      *item.mutable_created_at() = toProto(now);
      if (policy_shift != overrides_.end()) overrides_.erase(policy_shift);
      overrides_.push_back(item);
      decision.set_kind(v1::Decision::KIND_SHIFT_STARTED);
      *decision.mutable_override() = item;
      break;
    }
    case policy::ActionKind::kExtend:
      decision.set_kind(v1::Decision::KIND_SHIFT_EXTENDED);
      if (policy_shift != overrides_.end()) {
        *policy_shift->mutable_expires_at() = toProto(expires);
        *decision.mutable_override() = *policy_shift;
      }
      break;
    case policy::ActionKind::kEnd:
      decision.set_kind(v1::Decision::KIND_SHIFT_ENDED);
      if (policy_shift != overrides_.end()) {
        *decision.mutable_override() = *policy_shift;
        overrides_.erase(policy_shift);
      }
      break;
  }
  decideLocked(std::move(decision));
}

void Controller::tick() {
  std::lock_guard lock(mu_);
  const time::SystemTime now = clock_.systemNow();
  window_.expire(now);
  bool changed = expireLocked(now);
  for (const policy::PolicyAction& action : engine_.evaluate(window_, now)) {
    applyActionLocked(action, now);
    changed = true;
  }
  if (changed) publishLocked();
}

// --- Admin ----------------------------------------------------------------

v1::ListTargetsResponse Controller::listTargets(const v1::ListTargetsRequest& request) const {
  std::lock_guard lock(mu_);
  const time::SystemTime now = clock_.systemNow();
  v1::ListTargetsResponse response;
  *response.mutable_window() = toProtoDuration(config_.window);
  const double window_seconds = std::chrono::duration<double>(config_.window).count();
  for (const config::ModelConfig& model : config_.models) {
    if (request.models_size() > 0 && std::find(request.models().begin(), request.models().end(),
                                               model.name) == request.models().end()) {
      continue;
    }
    const policy::WindowStats stats = window_.stats(model.name, now);
    v1::TargetStatus* target = response.add_targets();
    target->set_model(model.name);
    target->set_provider(model.provider);
    target->set_samples(stats.samples());
    if (auto p50 = stats.latency.quantile(0.5))
      *target->mutable_latency_p50() = secondsToProto(*p50);
    if (auto p95 = stats.latency.quantile(0.95))
      *target->mutable_latency_p95() = secondsToProto(*p95);
    if (auto p99 = stats.latency.quantile(0.99))
      *target->mutable_latency_p99() = secondsToProto(*p99);
    if (auto t95 = stats.ttft.quantile(0.95)) *target->mutable_ttft_p95() = secondsToProto(*t95);
    target->set_error_rate(stats.errorRate());
    target->set_request_rate(window_seconds > 0 ? stats.samples() / window_seconds : 0);
    target->set_prompt_tokens(stats.prompt_tokens);
    target->set_completion_tokens(stats.completion_tokens);
    target->set_cost_usd(stats.cost_usd);
    target->set_reporting_nodes(static_cast<std::uint32_t>(stats.nodes.size()));
    for (const v1::Override& item : overrides_) {
      if (item.subject() == model.name) *target->add_overrides() = item;
    }
    target->set_health(v1::TargetStatus::HEALTH_UNKNOWN);
    if (const config::PolicyConfig* policy = engine_.find(model.name)) {
      switch (policy::judge(*policy, stats, config_.window)) {
        case policy::Health::kOk:
          target->set_health(v1::TargetStatus::HEALTH_OK);
          break;
        case policy::Health::kDegraded:
          target->set_health(v1::TargetStatus::HEALTH_DEGRADED);
          break;
        case policy::Health::kUnknown:
          break;
      }
    }
  }
  return response;
}

v1::GetThresholdsResponse Controller::getThresholds(const v1::GetThresholdsRequest& request) const {
  std::lock_guard lock(mu_);
  v1::GetThresholdsResponse response;
  for (const config::PolicyConfig& policy : engine_.policies()) {
    if (request.model().empty() || request.model() == policy.model) {
      *response.add_policies() = toProto(policy);
    }
  }
  *response.mutable_window() = toProtoDuration(config_.window);
  *response.mutable_evaluate_every() = toProtoDuration(config_.evaluate_every);
  return response;
}

absl::StatusOr<v1::SetThresholdsResponse> Controller::setThresholds(
    const v1::SetThresholdsRequest& request) {
  const std::string& model = request.policy().model();
  if (model.empty()) return absl::InvalidArgumentError("policy.model: missing");
  std::lock_guard lock(mu_);
  std::vector<config::PolicyConfig> policies = engine_.policies();
  std::erase_if(policies, [&](const config::PolicyConfig& p) { return p.model == model; });
  v1::SetThresholdsResponse response;
  std::string reason;
  if (request.remove()) {
    reason = strCat("policy of ", model, " removed");
  } else {
    const v1::Policy& p = request.policy();
    if (p.has_error_rate_max() && !(p.error_rate_max() >= 0 && p.error_rate_max() <= 1)) {
      return absl::InvalidArgumentError("policy.error_rate_max: must be between 0 and 1");
    }
    config::PolicyConfig policy = fromProto(request.policy());
    std::vector<std::string> problems = validatePolicy(policy, config_.models, "policy");
    if (!problems.empty()) return absl::InvalidArgumentError(problems.front());
    policies.push_back(policy);
    *response.mutable_policy() = toProto(policy);
    reason = strCat("policy of ", model, " set");
  }
  engine_.setPolicies(policies);
  policies_changed_ = true;
  persistLocked();
  v1::Decision decision;
  decision.set_kind(v1::Decision::KIND_THRESHOLDS_CHANGED);
  decision.set_subject(model);
  decision.set_reason(reason);
  decideLocked(std::move(decision));
  return response;
}

absl::Status Controller::validateOverrideLocked(const v1::Override& item) const {
  auto isModel = [&](const std::string& name) { return config_.findModel(name) != nullptr; };
  auto isRoute = [&](const std::string& name) {
    return std::any_of(config_.routes.begin(), config_.routes.end(),
                       [&](const config::RouteConfig& r) { return r.name == name; });
  };
  if (item.subject().empty()) return absl::InvalidArgumentError("override.subject: missing");
  switch (item.action_case()) {
    case v1::Override::kShift:
      if (!isModel(item.subject())) {
        return absl::InvalidArgumentError(
            strCat("override.subject: unknown model \"", item.subject(), "\""));
      }
      if (!isModel(item.shift().to())) {
        return absl::InvalidArgumentError(
            strCat("override.shift.to: unknown model \"", item.shift().to(), "\""));
      }
      if (item.shift().to() == item.subject()) {
        return absl::InvalidArgumentError("override.shift.to: must differ from the subject");
      }
      if (!(item.shift().weight() > 0 && item.shift().weight() <= 1)) {
        return absl::InvalidArgumentError("override.shift.weight: must be in (0, 1]");
      }
      return absl::OkStatus();
    case v1::Override::kPin:
      if (!isModel(item.subject()) && !isRoute(item.subject())) {
        return absl::InvalidArgumentError(
            strCat("override.subject: unknown model or route \"", item.subject(), "\""));
      }
      if (!isModel(item.pin().to())) {
        return absl::InvalidArgumentError(
            strCat("override.pin.to: unknown model \"", item.pin().to(), "\""));
      }
      return absl::OkStatus();
    case v1::Override::kDrain:
      if (!isModel(item.subject())) {
        return absl::InvalidArgumentError(
            strCat("override.subject: unknown model \"", item.subject(), "\""));
      }
      return absl::OkStatus();
    default:
      return absl::InvalidArgumentError("override: one of shift, pin, drain is required");
  }
}

absl::StatusOr<v1::SetOverrideResponse> Controller::setOverride(
    const v1::SetOverrideRequest& request) {
  v1::Override item = request.override();
  if (item.has_shift() && item.shift().weight() == 0) item.mutable_shift()->set_weight(1);
  std::lock_guard lock(mu_);
  if (absl::Status status = validateOverrideLocked(item); !status.ok()) return status;
  const time::SystemTime now = clock_.systemNow();
  if (request.has_ttl()) {
    if (fromProto(request.ttl()).count() <= 0) {
      return absl::InvalidArgumentError("ttl: must be greater than 0");
    }
    *item.mutable_expires_at() = toProto(now + fromProto(request.ttl()));
  } else if (item.has_expires_at() && fromProto(item.expires_at()) <= now) {
    return absl::InvalidArgumentError("override.expires_at: is in the past");
  }
  item.set_id(nextOverrideIdLocked());
  item.set_origin(v1::Override::ORIGIN_OPERATOR);
  *item.mutable_created_at() = toProto(now);
  std::erase_if(overrides_, [&](const v1::Override& o) {
    return o.origin() == v1::Override::ORIGIN_OPERATOR && o.subject() == item.subject() &&
           o.action_case() == item.action_case();
  });
  overrides_.push_back(item);
  v1::SetOverrideResponse response;
  *response.mutable_override() = item;
  response.set_route_version(std::to_string(version_ + 1));
  v1::Decision decision;
  decision.set_kind(v1::Decision::KIND_OVERRIDE_SET);
  decision.set_subject(item.subject());
  *decision.mutable_override() = item;
  decision.set_reason(item.reason().empty() ? strCat("operator: ", describeOverride(item))
                                            : strCat("operator: ", item.reason()));
  decision.set_route_version(response.route_version());
  decideLocked(std::move(decision));
  publishLocked();
  return response;
}

absl::StatusOr<v1::ClearOverrideResponse> Controller::clearOverride(
    const v1::ClearOverrideRequest& request) {
  if (request.selector_case() == v1::ClearOverrideRequest::SELECTOR_NOT_SET ||
      (request.has_id() && request.id().empty()) ||
      (request.has_subject() && request.subject().empty())) {
    return absl::InvalidArgumentError("selector: exactly one of id, subject is required");
  }
  std::lock_guard lock(mu_);
  const time::SystemTime now = clock_.systemNow();
  v1::ClearOverrideResponse response;
  for (auto it = overrides_.begin(); it != overrides_.end();) {
    const bool match =
        request.has_id() ? it->id() == request.id() : it->subject() == request.subject();
    if (!match) {
      ++it;
      continue;
    }
    *response.add_cleared() = *it;
    if (it->origin() == v1::Override::ORIGIN_POLICY) engine_.forgetShift(it->subject(), now);
    it = overrides_.erase(it);
  }
  if (response.cleared_size() == 0) {
    response.set_route_version(current_ ? current_->version() : "");
    return response;
  }
  for (const v1::Override& item : response.cleared()) {
    v1::Decision decision;
    decision.set_kind(v1::Decision::KIND_OVERRIDE_CLEARED);
    decision.set_subject(item.subject());
    *decision.mutable_override() = item;
    decision.set_reason(strCat("operator cleared ", describeOverride(item)));
    decision.set_route_version(std::to_string(version_ + 1));
    decideLocked(std::move(decision));
  }
  response.set_route_version(publishLocked());
  return response;
}

v1::GetRouteTableResponse Controller::getRouteTable() const {
  std::lock_guard lock(mu_);
  v1::GetRouteTableResponse response;
  if (current_) *response.mutable_snapshot() = *current_;
  for (const auto& [subscriber, subscription] : subscribers_) {
    v1::NodeStatus* status = response.add_nodes();
    *status = subscription.status;
    auto report = last_report_.find(status->node().id());
    if (report != last_report_.end()) *status->mutable_last_report_at() = toProto(report->second);
  }
  return response;
}

void Controller::watch(DecisionWatcher* watcher, const v1::WatchDecisionsRequest& request) {
  std::lock_guard lock(mu_);
  Watch& watch = watchers_[watcher];
  watch.subjects.insert(request.subjects().begin(), request.subjects().end());
  std::vector<const v1::Decision*> replay;
  for (auto it = recent_.rbegin(); it != recent_.rend() && replay.size() < request.replay(); ++it) {
    if (watch.subjects.empty() || watch.subjects.contains(it->subject())) replay.push_back(&*it);
  }
  for (auto it = replay.rbegin(); it != replay.rend(); ++it) watcher->push(**it);
}

void Controller::unwatch(DecisionWatcher* watcher) {
  std::lock_guard lock(mu_);
  watchers_.erase(watcher);
}

}  // namespace llmgate::control::service
