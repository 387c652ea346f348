#include "control/http/control_metrics.h"

#include <sstream>

#include "llmgate/control/v1/admin.pb.h"
#include "prometheus/text_serializer.h"

namespace llmgate::control::http {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void addValue(MetricFamily& f, double value, std::vector<ClientMetric::Label> labels = {}) {
  ClientMetric metric;
  metric.label = std::move(labels);
  if (f.type == MetricType::Counter) {
    metric.counter.value = value;
  } else {
    metric.gauge.value = value;
  }
  f.metric.push_back(std::move(metric));
}

MetricFamily counter(std::string name, std::string help, std::uint64_t value) {
  MetricFamily f = family(std::move(name), std::move(help), MetricType::Counter);
  addValue(f, static_cast<double>(value));
  return f;
}

MetricFamily gauge(std::string name, std::string help, double value) {
  MetricFamily f = family(std::move(name), std::move(help), MetricType::Gauge);
  addValue(f, value);
  return f;
}

// "KIND_SHIFT_STARTED" -> "shift_started".
std::string kindLabel(int kind) {
  std::string name =
      service::v1::Decision::Kind_Name(static_cast<service::v1::Decision::Kind>(kind));
  if (name.rfind("KIND_", 0) == 0) name = name.substr(5);
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

}  // namespace

ControlMetrics::ControlMetrics(service::Controller& controller, const DecisionCounter& decisions,
                               const webhook::WebhookStats& webhook)
    : controller_(controller), decisions_(decisions), webhook_(webhook) {}

std::vector<MetricFamily> ControlMetrics::Collect() const {
  service::Counters& c = controller_.counters();
  std::vector<MetricFamily> out;
  out.push_back(gauge("llmgate_control_connected_proxies",
                      "Proxies subscribed to RouteDiscovery.StreamRoutes right now.",
                      static_cast<double>(controller_.subscriberCount())));
  double version = 0;
  if (std::shared_ptr<const service::v1::RouteSnapshot> current = controller_.current()) {
    version = std::strtod(current->version().c_str(), nullptr);
  }
  out.push_back(gauge("llmgate_control_route_version",
                      "Version of the route table the control plane publishes.", version));
  out.push_back(counter("llmgate_control_snapshots_published_total",
                        "Route-table versions published.", c.publishes.load()));
  out.push_back(
      counter("llmgate_control_acks_total", "Snapshots ACKed by proxies.", c.acks.load()));
  out.push_back(counter("llmgate_control_nacks_total", "Snapshots NACKed (refused) by proxies.",
                        c.nacks.load()));
  out.push_back(counter("llmgate_control_stale_responses_total",
                        "ACK/NACK answers carrying an old nonce (ignored).",
                        c.stale_responses.load()));
  MetricFamily decisions = family("llmgate_control_decisions_total",
                                  "Decisions taken or recorded, by kind.", MetricType::Counter);
  for (int kind = 1; kind < DecisionCounter::kKinds; ++kind) {
    addValue(decisions, static_cast<double>(decisions_.get(kind)), {{"kind", kindLabel(kind)}});
  }
  out.push_back(std::move(decisions));
  out.push_back(counter("llmgate_control_telemetry_reports_total",
                        "Telemetry reports received from proxies.", c.reports.load()));
  out.push_back(counter("llmgate_control_telemetry_rejected_targets_total",
                        "Telemetry entries refused (unknown model, bad sketch, future time).",
                        c.rejected_targets.load()));
  out.push_back(counter("llmgate_control_auth_failures_total",
                        "Calls refused for a missing or wrong token.", c.auth_failures.load()));
  out.push_back(counter("llmgate_control_state_write_failures_total",
                        "Failed writes of the state file.", c.state_write_failures.load()));
  MetricFamily admissions =
      family("llmgate_control_webhook_admissions_total",
             "AdmissionReviews answered by the injection webhook, by result.", MetricType::Counter);
  for (webhook::AdmissionOutcome outcome : webhook::kAllOutcomes) {
    addValue(admissions, static_cast<double>(webhook_.get(outcome)),
             {{"result", std::string(webhook::outcomeName(outcome))}});
  }
  out.push_back(std::move(admissions));
  out.push_back(counter("llmgate_control_webhook_refused_total",
                        "Webhook requests refused before a review (wrong path or method).",
                        webhook_.refused()));
  MetricFamily build = family("llmgate_control_build_info", "Build version.", MetricType::Gauge);
  addValue(build, 1, {{"version", LLMGATE_VERSION}});
  out.push_back(std::move(build));
  return out;
}

std::string ControlMetrics::text() const {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, Collect());
  return out.str();
}

}  // namespace llmgate::control::http
