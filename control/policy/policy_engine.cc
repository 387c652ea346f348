#include "control/policy/policy_engine.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "common/config/units.h"
#include "common/text/str_cat.h"

namespace llmgate::control::policy {
namespace {

double seconds(config::Duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

const char* toString(ActionKind kind) {
  switch (kind) {
    case ActionKind::kStart:
      return "shift_started";
    case ActionKind::kExtend:
      return "shift_extended";
    case ActionKind::kEnd:
      return "shift_ended";
  }
  return "unknown";
}

std::string formatSeconds(double value) {
  char buf[32];
  if (value < 1) {
    std::snprintf(buf, sizeof buf, "%.0fms", value * 1000);
  } else {
    std::snprintf(buf, sizeof buf, "%.2gs", value);
    if (value >= 10) std::snprintf(buf, sizeof buf, "%.1fs", value);
  }
  return buf;
}

Health judge(const config::PolicyConfig& policy, const WindowStats& stats, config::Duration window,
             std::string* evidence) {
  const std::uint64_t samples = stats.samples();
  if (samples < std::max<std::uint64_t>(1, policy.min_samples)) return Health::kUnknown;
  const std::string over =
      strCat(" over ", config::formatDuration(window), ", ", samples, " samples");
  if (policy.p95_latency_max) {
    if (std::optional<double> p95 = stats.latency.quantile(0.95)) {
      if (*p95 > seconds(*policy.p95_latency_max)) {
        if (evidence) {
          *evidence = strCat("p95 ", formatSeconds(*p95), " > ",
                             config::formatDuration(*policy.p95_latency_max), over);
        }
        return Health::kDegraded;
      }
    }
  }
  if (policy.ttft_p95_max) {
    if (std::optional<double> p95 = stats.ttft.quantile(0.95)) {
      if (*p95 > seconds(*policy.ttft_p95_max)) {
        if (evidence) {
          *evidence = strCat("ttft p95 ", formatSeconds(*p95), " > ",
                             config::formatDuration(*policy.ttft_p95_max), over);
        }
        return Health::kDegraded;
      }
    }
  }
  if (policy.error_rate_max && stats.errorRate() > *policy.error_rate_max) {
    if (evidence) {
      char buf[64];
      std::snprintf(buf, sizeof buf, "error rate %.3f > %.3f", stats.errorRate(),
                    *policy.error_rate_max);
      *evidence = strCat(buf, over);
    }
    return Health::kDegraded;
  }
  return Health::kOk;
}

void PolicyEngine::setPolicies(const std::vector<config::PolicyConfig>& policies) {
  policies_ = policies;
  for (auto it = state_.begin(); it != state_.end();) {
    it = find(it->first) == nullptr ? state_.erase(it) : std::next(it);
  }
}

const config::PolicyConfig* PolicyEngine::find(const std::string& model) const {
  for (const config::PolicyConfig& policy : policies_) {
    if (policy.model == model) return &policy;
  }
  return nullptr;
}

bool PolicyEngine::shifted(const std::string& model) const {
  auto it = state_.find(model);
  return it != state_.end() && it->second.shifted;
}

void PolicyEngine::forgetShift(const std::string& model, time::SystemTime now) {
  auto it = state_.find(model);
  if (it == state_.end()) return;
  it->second.shifted = false;
  it->second.judge_since = now;
}

std::vector<PolicyAction> PolicyEngine::evaluate(const FleetWindow& window, time::SystemTime now) {
  std::vector<PolicyAction> actions;
  for (const config::PolicyConfig& policy : policies_) {
    ModelState& state = state_[policy.model];
    const double weight = 1 - policy.probe_percent / 100;
    std::string evidence;
    if (!state.shifted) {
      const WindowStats stats = window.stats(policy.model, now, state.judge_since);
      if (judge(policy, stats, window.window(), &evidence) != Health::kDegraded) continue;
      state.shifted = true;
      state.until = now + policy.shift_for;
      state.judge_since = now;
      actions.push_back(PolicyAction{ActionKind::kStart, policy.model, policy.shift_to, weight,
                                     state.until, evidence});
      continue;
    }
    if (now < state.until) continue;
    if (policy.probe_percent <= 0) {
      state.shifted = false;
      state.judge_since = now;
      actions.push_back(PolicyAction{ActionKind::kEnd, policy.model, policy.shift_to, weight, now,
                                     strCat("shift_for ", config::formatDuration(policy.shift_for),
                                            " elapsed; fresh samples decide")});
      continue;
    }
    const WindowStats probe = window.stats(policy.model, now, state.judge_since);
    const Health health = judge(policy, probe, window.window(), &evidence);
    if (health == Health::kOk) {
      state.shifted = false;
      state.judge_since = now;
      actions.push_back(PolicyAction{
          ActionKind::kEnd, policy.model, policy.shift_to, weight, now,
          strCat("probe share healthy: ", probe.samples(), " samples within thresholds")});
      continue;
    }
    if (health == Health::kUnknown) {
      evidence = strCat("probe share has ", probe.samples(), " samples, fewer than min_samples ",
                        policy.min_samples);
    }
    state.until = now + policy.shift_for;
    state.judge_since = now;
    actions.push_back(PolicyAction{ActionKind::kExtend, policy.model, policy.shift_to, weight,
                                   state.until, evidence});
  }
  return actions;
}

}  // namespace llmgate::control::policy
