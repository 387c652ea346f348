// The policy engine: per model, over the fleet window, decides when to shift
// traffic away and when to bring it back. Pure: time comes in as arguments,
// statistics from a FleetWindow, decisions go out as values; the caller turns
// them into overrides, logs, counters and Admin.WatchDecisions events.
//
// Semantics (../shared/DESIGN.md "Control plane"):
//  - Healthy model, >= min_samples in the window, and fleet p95 latency >
//    p95_latency_max or TTFT p95 > ttft_p95_max or error rate >
//    error_rate_max: START a shift of weight 1 - probe_percent/100 to
//    shift_to until now + shift_for.
//  - When shift_for has passed, with probe_percent > 0: the samples that
//    reached the model since the shift started (or was last extended) are
//    the probe share; with >= min_samples and within thresholds the shift
//    ENDs, otherwise it is EXTENDed by shift_for (hysteresis: it returns
//    only when seen healthy). With probe_percent 0 the shift ENDs and only
//    samples after its end are judged again.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/config/control_loader.h"
#include "control/policy/fleet_window.h"

namespace llmgate::control::policy {

enum class ActionKind { kStart, kExtend, kEnd };
const char* toString(ActionKind kind);

struct PolicyAction {
  ActionKind kind;
  std::string model;
  std::string shift_to;
  double weight = 1;         // share of traffic moved
  time::SystemTime until{};  // kStart/kExtend: when it is judged next
  std::string reason;        // evidence in English
};

enum class Health { kUnknown, kOk, kDegraded };

// Judges stats against a policy; `breach` gets the evidence when degraded.
Health judge(const config::PolicyConfig& policy, const WindowStats& stats, config::Duration window,
             std::string* evidence = nullptr);

class PolicyEngine {
 public:
  // Replaces the policy set; a shift in progress for a model whose policy
  // disappears stays until the caller clears it (its state is forgotten).
  void setPolicies(const std::vector<config::PolicyConfig>& policies);
  const std::vector<config::PolicyConfig>& policies() const { return policies_; }
  const config::PolicyConfig* find(const std::string& model) const;

  std::vector<PolicyAction> evaluate(const FleetWindow& window, time::SystemTime now);

  bool shifted(const std::string& model) const;
  // An operator cleared the shift by hand: judge fresh samples from `now`.
  void forgetShift(const std::string& model, time::SystemTime now);

 private:
  struct ModelState {
    bool shifted = false;
    time::SystemTime until{};
    time::SystemTime judge_since = time::SystemTime::min();
  };

  std::vector<config::PolicyConfig> policies_;
  std::map<std::string, ModelState> state_;
};

// "3.4s", "850ms": seconds in a short human form.
std::string formatSeconds(double seconds);

}  // namespace llmgate::control::policy
