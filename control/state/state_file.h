// What operators set (thresholds, overrides) and the route-table version
// counter, kept in `state_file` as JSON so that they survive a restart of
// llmgate-control. Written atomically: temp file, fsync, rename, fsync dir.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "llmgate/control/v1/admin.pb.h"

namespace llmgate::control::state {

struct OperatorState {
  // The last route-table version published: versions keep growing across
  // restarts so a proxy's cached version never names different content.
  std::uint64_t route_version = 0;
  // Set once an operator changed thresholds: then it replaces the config's
  // `policies:` as a whole.
  std::optional<std::vector<llmgate::control::v1::Policy>> policies;
  std::vector<llmgate::control::v1::Override> overrides;
};

std::string toJson(const OperatorState& state);
absl::StatusOr<OperatorState> fromJson(const std::string& json);

// Replaces `path` with `content` so that a reader (or a crash) sees either
// the old file or the new one, never a mix.
absl::Status writeFileAtomically(const std::string& path, const std::string& content);

absl::Status saveState(const std::string& path, const OperatorState& state);
// NotFound when the file does not exist (a first start).
absl::StatusOr<OperatorState> loadState(const std::string& path);

}  // namespace llmgate::control::state
