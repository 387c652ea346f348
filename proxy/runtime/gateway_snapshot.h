// Everything a request reads that a reload can change, built once per config
// and never modified: workers hold a shared_ptr to the current one (each its
// own copy of the pointer, replaced by a post to the worker — no lock per request).
#pragma once

#include <cstdint>
#include <memory>

#include "common/config/schema.h"
#include "proxy/auth/client_authenticator.h"
#include "proxy/upstream/target_health.h"

namespace llmgate::proxy::runtime {

struct GatewaySnapshot {
  // `previous` (may be null) hands its health state over to the new snapshot.
  GatewaySnapshot(std::shared_ptr<const config::Config> cfg, std::uint64_t ver,
                  const GatewaySnapshot* previous = nullptr)
      : config(std::move(cfg)),
        auth(config->clients),
        health(std::make_shared<upstream::HealthRegistry>(
            *config, previous ? previous->health.get() : nullptr)),
        version(ver) {}

  std::shared_ptr<const config::Config> config;
  auth::ClientAuthenticator auth;
  // Shared mutable state (atomics) behind an immutable map of names.
  std::shared_ptr<upstream::HealthRegistry> health;
  std::uint64_t version;
};

using SnapshotPtr = std::shared_ptr<const GatewaySnapshot>;

}  // namespace llmgate::proxy::runtime
