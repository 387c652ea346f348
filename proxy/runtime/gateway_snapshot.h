// Everything a request reads that a reload can change, built once per config
// and never modified: workers hold a shared_ptr to the current one (each its
// own copy of the pointer, replaced by a post to the worker — no lock per request).
#pragma once

#include <cstdint>
#include <memory>

#include "common/config/schema.h"
#include "common/time/clock.h"
#include "proxy/auth/client_authenticator.h"
#include "proxy/cost/budget.h"
#include "proxy/routing/token_estimator.h"
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
        estimator(previous ? previous->estimator : std::make_shared<routing::TokenEstimator>()),
        budgets(
            std::make_shared<cost::BudgetTracker>(config->clients, time::RealClock::instance())),
        version(ver) {
    if (previous != nullptr) budgets->carryOver(*previous->budgets);
  }

  std::shared_ptr<const config::Config> config;
  auth::ClientAuthenticator auth;
  // Shared mutable state (atomics) behind an immutable map of names.
  std::shared_ptr<upstream::HealthRegistry> health;
  // Calibrated per model from observed usage; kept across reloads.
  std::shared_ptr<routing::TokenEstimator> estimator;
  // Per-tenant spend (day and minute windows); a reload carries it over.
  std::shared_ptr<cost::BudgetTracker> budgets;
  std::uint64_t version;
};

using SnapshotPtr = std::shared_ptr<const GatewaySnapshot>;

}  // namespace llmgate::proxy::runtime
