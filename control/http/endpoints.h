// The routes of llmgate-control's two HTTP listeners.
//   admin (admin_listen, plain HTTP): GET /healthz, /readyz, /metrics.
//   webhook (webhook_listen, HTTPS): POST /mutate, an AdmissionReview v1.
#pragma once

#include <atomic>

#include "common/config/control_loader.h"
#include "control/http/control_metrics.h"
#include "control/http/http_server.h"
#include "control/webhook/webhook_stats.h"

namespace llmgate::control::http {

// /readyz is 200 once `ready` is set and until `draining` is.
struct Readiness {
  std::atomic<bool> ready{false};
  std::atomic<bool> draining{false};
};

Handler adminHandler(const Readiness& readiness, const ControlMetrics& metrics);

// Runs webhook::reviewAdmission, logs and counts each answer. The config
// must outlive the handler.
Handler webhookHandler(const config::InjectionConfig& config, webhook::WebhookStats& stats);

}  // namespace llmgate::control::http
