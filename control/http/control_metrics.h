// llmgate-control's /metrics (docs/METRICS.md, "Control plane"): read at
// scrape time from the Controller's counters, the decision counter and the
// webhook's stats, and written in the Prometheus text format.
#pragma once

#include <string>
#include <vector>

#include "control/http/decision_counter.h"
#include "control/service/controller.h"
#include "control/webhook/webhook_stats.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace llmgate::control::http {

class ControlMetrics final : public prometheus::Collectable {
 public:
  ControlMetrics(service::Controller& controller, const DecisionCounter& decisions,
                 const webhook::WebhookStats& webhook);

  std::vector<prometheus::MetricFamily> Collect() const override;
  // Collect(), serialized (text format 0.0.4).
  std::string text() const;

 private:
  service::Controller& controller_;
  const DecisionCounter& decisions_;
  const webhook::WebhookStats& webhook_;
};

}  // namespace llmgate::control::http
