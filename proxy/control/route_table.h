// The routes the proxy serves: its own file config, with the control plane's
// current snapshot (if any) applied on top. Every change (a snapshot from the
// control plane or the cache file, a SIGHUP reload of the file) builds one
// complete candidate config, validates it, and hands it to `publish` (main's
// path: a new GatewaySnapshot to every worker), so no request sees a mix of
// two versions (R32). A refused snapshot leaves everything as it was (R28).
// Thread-safe: gRPC threads and main's signal handler call it; never called
// on the request path.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "common/config/schema.h"
#include "llmgate/control/v1/route_discovery.pb.h"

namespace llmgate::proxy::control {

enum class RouteSource { kConfig, kControlPlane, kCacheFile };
const char* toString(RouteSource source);

class RouteTable {
 public:
  using Publish = std::function<void(std::shared_ptr<const config::Config>)>;

  RouteTable(config::Config file_config, Publish publish);

  // Validates `snapshot` against the file config; on success publishes it.
  // InvalidArgument naming the key path when refused (the NACK's message).
  // The version already served is OK without a new publish (R31); a snapshot
  // without routes while routes are served is refused (R29).
  absl::Status applySnapshot(const ::llmgate::control::v1::RouteSnapshot& snapshot,
                             RouteSource source);
  // A new file config (SIGHUP): the current snapshot is applied again on top.
  // Refused (nothing changes) when the snapshot does not fit the new file.
  absl::Status reloadFile(config::Config file_config);

  // "" while only the file's routes are served.
  std::string version() const;
  RouteSource source() const;
  std::shared_ptr<const config::Config> current() const;

 private:
  mutable std::mutex mu_;
  config::Config file_;
  Publish publish_;
  std::optional<::llmgate::control::v1::RouteSnapshot> snapshot_;
  RouteSource source_ = RouteSource::kConfig;
  std::shared_ptr<const config::Config> current_;
};

// The number shown as llmgate_route_version and the access log's
// routes_version: the control plane's version when it is a decimal number,
// else `fallback` (the proxy's own reload counter).
std::uint64_t numericRouteVersion(const config::Config& config, std::uint64_t fallback);

}  // namespace llmgate::proxy::control
