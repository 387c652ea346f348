#include "proxy/control/route_table.h"

#include <charconv>

#include "common/text/str_cat.h"
#include "proxy/control/snapshot_config.h"

namespace llmgate::proxy::control {

const char* toString(RouteSource source) {
  switch (source) {
    case RouteSource::kConfig:
      return "config";
    case RouteSource::kControlPlane:
      return "control_plane";
    case RouteSource::kCacheFile:
      return "cache_file";
  }
  return "config";
}

RouteTable::RouteTable(config::Config file_config, Publish publish)
    : file_(std::move(file_config)),
      publish_(std::move(publish)),
      current_(std::make_shared<const config::Config>(file_)) {}

absl::Status RouteTable::applySnapshot(const ::llmgate::control::v1::RouteSnapshot& snapshot,
                                       RouteSource source) {
  std::lock_guard lock(mu_);
  // Versions name contents: the one already served is acknowledged, not
  // swapped again (R31).
  if (snapshot_ && snapshot_->version() == snapshot.version()) {
    source_ = source;
    return absl::OkStatus();
  }
  // R29: losing every route at once is far more likely a broken control
  // plane than an intent; an operator drains or pins instead.
  if (snapshot.routes_size() == 0 && !current_->routes.empty()) {
    return absl::InvalidArgumentError(
        strCat("routes: the snapshot has no routes and would delete all ", current_->routes.size(),
               " (drain or pin a route instead)"));
  }
  absl::StatusOr<config::Config> candidate = buildCandidate(file_, snapshot);
  if (!candidate.ok()) return candidate.status();
  auto next = std::make_shared<const config::Config>(std::move(*candidate));
  snapshot_ = snapshot;
  source_ = source;
  current_ = next;
  publish_(std::move(next));
  return absl::OkStatus();
}

absl::Status RouteTable::reloadFile(config::Config file_config) {
  std::lock_guard lock(mu_);
  std::shared_ptr<const config::Config> next;
  if (snapshot_) {
    absl::StatusOr<config::Config> candidate = buildCandidate(file_config, *snapshot_);
    if (!candidate.ok()) return candidate.status();
    next = std::make_shared<const config::Config>(std::move(*candidate));
  } else {
    next = std::make_shared<const config::Config>(file_config);
  }
  file_ = std::move(file_config);
  current_ = next;
  publish_(std::move(next));
  return absl::OkStatus();
}

std::string RouteTable::version() const {
  std::lock_guard lock(mu_);
  return current_->routes_version;
}

RouteSource RouteTable::source() const {
  std::lock_guard lock(mu_);
  return source_;
}

std::shared_ptr<const config::Config> RouteTable::current() const {
  std::lock_guard lock(mu_);
  return current_;
}

std::uint64_t numericRouteVersion(const config::Config& config, std::uint64_t fallback) {
  const std::string& text = config.routes_version;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return fallback;
  return value;
}

}  // namespace llmgate::proxy::control
