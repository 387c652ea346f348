// A control-plane RouteSnapshot turned into the config the proxy serves:
// its own file config with `models` and `routes` replaced by the snapshot's
// and `overrides` / `routes_version` set. Checked with the config loader's
// rules and key-path messages (common/config/loader.h); a refused snapshot's
// status is InvalidArgument (NACK code 3) naming the path:
// `models[1].provider: unknown provider "x"`.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config/schema.h"
#include "llmgate/control/v1/route_discovery.pb.h"

namespace llmgate::proxy::control {

namespace v1 = ::llmgate::control::v1;

// The snapshot's models and routes as JSON with the config file's keys
// (`default`, `when: {task, tenant, ...}`, `split`, `price_per_mtok`), the
// loader's input. Only the conditions a rule sets appear in its `when`.
std::string modelsAndRoutesJson(const v1::RouteSnapshot& snapshot);

// The snapshot's overrides, checked against `config`'s models and routes
// (the candidate's): `overrides[0].shift.to: unknown model "x"`.
absl::StatusOr<std::vector<config::RouteOverride>> convertOverrides(
    const v1::RouteSnapshot& snapshot, const config::Config& config);

// The candidate config: `file` with the snapshot applied, or the problems.
absl::StatusOr<config::Config> buildCandidate(const config::Config& file,
                                              const v1::RouteSnapshot& snapshot);

}  // namespace llmgate::proxy::control
