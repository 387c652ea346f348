// The control plane's state and decisions, shared by the gRPC services: the
// published route table (base routes file + active overrides, versioned), its
// subscribers, the fleet window fed by telemetry, the policy engine, operator
// overrides and thresholds (persisted in the state file), and the decision
// stream. Thread-safe; one mutex. Subscribers and watchers are called with
// that mutex held and must not call back into the Controller from push().
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config/control_loader.h"
#include "common/time/clock.h"
#include "control/policy/fleet_window.h"
#include "control/policy/policy_engine.h"
#include "llmgate/control/v1/admin.pb.h"
#include "llmgate/control/v1/telemetry.pb.h"

namespace llmgate::control::service {

namespace v1 = llmgate::control::v1;

// One StreamRoutes call. push() must not block: it queues or starts a write.
class RouteSubscriber {
 public:
  virtual ~RouteSubscriber() = default;
  virtual void push(std::shared_ptr<const v1::RouteSnapshot> snapshot) = 0;
};

// One WatchDecisions call.
class DecisionWatcher {
 public:
  virtual ~DecisionWatcher() = default;
  virtual void push(const v1::Decision& decision) = 0;
};

struct Counters {
  std::atomic<std::uint64_t> acks{0};
  std::atomic<std::uint64_t> nacks{0};
  std::atomic<std::uint64_t> stale_responses{0};
  std::atomic<std::uint64_t> publishes{0};
  std::atomic<std::uint64_t> decisions{0};
  std::atomic<std::uint64_t> reports{0};
  std::atomic<std::uint64_t> rejected_targets{0};
  std::atomic<std::uint64_t> auth_failures{0};
  std::atomic<std::uint64_t> state_write_failures{0};
};

class Controller {
 public:
  Controller(config::ControlConfig config, const time::Clock& clock);

  // Loads the state file (if any) and publishes the first table.
  absl::Status start();

  const config::ControlConfig& config() const { return config_; }
  Counters& counters() { return counters_; }

  // --- RouteDiscovery ---
  // Registers a subscriber; pushes the current table unless `version_info`
  // already names it.
  void subscribe(RouteSubscriber* subscriber, const v1::Node& node,
                 const std::string& version_info);
  void unsubscribe(RouteSubscriber* subscriber);
  void ack(RouteSubscriber* subscriber, const std::string& version);
  void nack(RouteSubscriber* subscriber, const std::string& kept_version,
            const std::string& refused_version, const v1::ErrorDetail& error);
  std::shared_ptr<const v1::RouteSnapshot> current() const;
  std::size_t subscriberCount() const;

  // --- Telemetry ---
  // Merges one report's entries into the window; refusals go to `ack`.
  void ingest(const std::string& node_id, const v1::TelemetryReport& report, v1::ReportAck* ack);

  // --- Policy loop: evaluates policies and expires overrides (every
  // evaluate_every; tests call it directly). ---
  void tick();

  // --- Admin ---
  v1::ListTargetsResponse listTargets(const v1::ListTargetsRequest& request) const;
  v1::GetThresholdsResponse getThresholds(const v1::GetThresholdsRequest& request) const;
  absl::StatusOr<v1::SetThresholdsResponse> setThresholds(const v1::SetThresholdsRequest& request);
  absl::StatusOr<v1::SetOverrideResponse> setOverride(const v1::SetOverrideRequest& request);
  absl::StatusOr<v1::ClearOverrideResponse> clearOverride(const v1::ClearOverrideRequest& request);
  v1::GetRouteTableResponse getRouteTable() const;
  void watch(DecisionWatcher* watcher, const v1::WatchDecisionsRequest& request);
  void unwatch(DecisionWatcher* watcher);

 private:
  struct Subscription {
    v1::NodeStatus status;
  };
  struct Watch {
    std::set<std::string> subjects;
  };

  // Builds and pushes a new version; persists the state. Returns the version.
  std::string publishLocked();
  void persistLocked();
  void decideLocked(v1::Decision decision);
  bool expireLocked(time::SystemTime now);
  void applyActionLocked(const policy::PolicyAction& action, time::SystemTime now);
  absl::Status validateOverrideLocked(const v1::Override& item) const;
  std::string nextOverrideIdLocked();

  const config::ControlConfig config_;
  const time::Clock& clock_;
  Counters counters_;

  mutable std::mutex mu_;
  std::uint64_t version_ = 0;
  std::uint64_t override_seq_ = 0;
  std::shared_ptr<const v1::RouteSnapshot> current_;
  std::vector<v1::Override> overrides_;
  bool policies_changed_ = false;  // operator thresholds replace the config's
  policy::PolicyEngine engine_;
  policy::FleetWindow window_;
  std::map<RouteSubscriber*, Subscription> subscribers_;
  std::map<std::string, time::SystemTime> last_report_;
  std::map<DecisionWatcher*, Watch> watchers_;
  std::deque<v1::Decision> recent_;
};

}  // namespace llmgate::control::service
